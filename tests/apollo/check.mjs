// Apollo Client's automatic persisted queries link against a live workplan server.
//   node check.mjs http://127.0.0.1:PORT/graphql
// For each way the link sends hashed queries (POST, and GET with useGETForHashedQueries), a
// first client sends the hash alone, gets PersistedQueryNotFound, retries with the query and
// gets the data; a second client (its own link and cache) then gets the data from the hash
// alone, in one request. Every request the link makes is recorded and checked.
import { ApolloClient, HttpLink, InMemoryCache, gql } from "@apollo/client";
import { PersistedQueryLink } from "@apollo/client/link/persisted-queries";
import { createHash } from "node:crypto";

const url = process.argv[2];
if (!url) {
  console.error("usage: node check.mjs http://127.0.0.1:PORT/graphql");
  process.exit(2);
}

const sha256 = (text) => createHash("sha256").update(text).digest("hex");

/** A client whose every request is recorded in `log`: method, whether it carried the query,
 * whether it carried the hash, the status and the first error's code. */
function client(log, useGETForHashedQueries) {
  const fetchAndRecord = async (input, init = {}) => {
    const method = init.method ?? "GET";
    const target = new URL(typeof input === "string" ? input : input.url);
    const sent = method === "GET" ? Object.fromEntries(target.searchParams) : JSON.parse(init.body);
    const extensions = typeof sent.extensions === "string" ? JSON.parse(sent.extensions) : sent.extensions;
    const response = await fetch(input, init);
    const body = await response.clone().json();
    log.push({
      method,
      query: typeof sent.query === "string" && sent.query.length > 0,
      hash: Boolean(extensions?.persistedQuery?.sha256Hash),
      status: response.status,
      code: body.errors?.[0]?.extensions?.code ?? null,
    });
    return response;
  };
  const link = new PersistedQueryLink({ sha256, useGETForHashedQueries }).concat(
    new HttpLink({ uri: url, fetch: fetchAndRecord }),
  );
  return new ApolloClient({ link, cache: new InMemoryCache() });
}

let passed = 0;
let failed = 0;
function check(name, ok, detail) {
  if (ok) {
    passed += 1;
    console.log(`ok - ${name}`);
  } else {
    failed += 1;
    console.log(`not ok - ${name}: ${JSON.stringify(detail)}`);
  }
}

for (const useGET of [false, true]) {
  const how = useGET ? "GET" : "POST";
  // A text of its own per round, so the second round starts unknown to the server too.
  const query = gql`
    query ApolloApq${how}($n: Int!) {
      task(number: $n) {
        number
        responsibilities {
          agency {
            name
          }
        }
      }
    }
  `;
  const first = [];
  const a = await client(first, useGET).query({ query, variables: { n: 3 } });
  check(`${how}: the first query answers`, a.data?.task?.number === 3 && !a.error, a);
  check(
    `${how}: hash alone, PERSISTED_QUERY_NOT_FOUND, then the query with its hash by POST`,
    first.length === 2 &&
      first[0].method === how && !first[0].query && first[0].hash && first[0].status === 200 &&
      first[0].code === "PERSISTED_QUERY_NOT_FOUND" &&
      first[1].method === "POST" && first[1].query && first[1].hash && first[1].status === 200 &&
      first[1].code === null,
    first,
  );
  const second = [];
  const b = await client(second, useGET).query({ query, variables: { n: 5 } });
  check(`${how}: another client gets the data`, b.data?.task?.number === 5 && !b.error, b);
  check(
    `${how}: ... from the hash alone, in one request`,
    second.length === 1 && second[0].method === how && !second[0].query && second[0].hash &&
      second[0].status === 200 && second[0].code === null,
    second,
  );
}

console.log(`apollo-apq: ${passed} passed, ${failed} failed`);
process.exit(failed === 0 ? 0 : 1);
