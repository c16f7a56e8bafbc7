// PostGraphile v5 for bench/run.sh --suite peers: the amber preset, the public schema of the
// database in $DATABASE_URL, a pool of 10 connections (as workplan's), no watch mode, no explain,
// no GraphiQL. bench/servers/postgraphile5.sh copies this file next to the installed packages
// (~/.cache/workplan-bench-node/postgraphile5) and passes the host and port on the command line.
import { PostGraphileAmberPreset } from "postgraphile/presets/amber";
import { makePgService } from "postgraphile/adaptors/pg";

/** @type {GraphileConfig.Preset} */
const preset = {
  extends: [PostGraphileAmberPreset],
  pgServices: [
    makePgService({
      connectionString: process.env.DATABASE_URL,
      schemas: ["public"],
      poolConfig: { max: 10 },
    }),
  ],
  grafserv: { watch: false, graphiql: false },
  grafast: { explain: false },
};

export default preset;
