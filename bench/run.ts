// `npm run bench`: each scenario prints one JSON line. The full suite with baselines comes
// with the benchmark issue; for now the matching-scale scenario, on embedded PGlite and, when
// BENCH_DATABASE_URL (or DATABASE_URL) names a fresh PostgreSQL database, on that too.
import { benchMatching } from './matching.js';

await benchMatching('memory://');
const pg = process.env.BENCH_DATABASE_URL ?? process.env.DATABASE_URL;
if (pg) await benchMatching(pg);
