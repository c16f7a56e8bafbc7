// Runs graphql-http's GraphQL-over-HTTP server audits against a live workplan server and fails
// unless every MUST and SHOULD audit passes. Usage: node audit.mjs http://127.0.0.1:PORT/graphql
import { serverAudits } from 'graphql-http';

const url = process.argv[2];
if (!url) {
  console.error('usage: node audit.mjs URL');
  process.exit(2);
}
let passed = 0;
let failed = 0;
let skippedMay = 0;
for (const audit of serverAudits({ url })) {
  const result = await audit.fn();
  const level = audit.name.split(' ')[0];
  if (result.status === 'ok') {
    passed += 1;
    continue;
  }
  if (level === 'MAY') {
    skippedMay += 1;
    console.log(`note (MAY, not required): ${audit.name}: ${result.reason}`);
    continue;
  }
  failed += 1;
  let details = '';
  try {
    details = JSON.stringify(result.response ? { status: result.response.status, body: await result.response.text() } : {});
  } catch {}
  console.log(`FAIL ${audit.id} ${audit.name}: ${result.reason} ${details}`);
}
console.log(`graphql-http audits: ${passed} passed, ${failed} failed` + (skippedMay ? ` (${skippedMay} MAY not met)` : ''));
process.exit(failed === 0 ? 0 : 1);
