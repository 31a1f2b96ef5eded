/**
 * `npm run fuzz`: the import fuzzer (tests/support/fuzz.ts) for as many cases as asked, against
 * a fresh database on TEST_DATABASE_URL's server (dropped at the end). Prints one line per case
 * that broke an invariant and a tally per mutation; exit 1 when any case broke one.
 *
 *   TEST_DATABASE_URL=postgres://postgres@127.0.0.1:5432/postgres npm run fuzz -- [--cases 1000] [--seed 1] [--all]
 *
 * --all adds the 116 kB sample export to the seeds (slower cases).
 */
import { randomBytes } from 'node:crypto';
import pg from 'pg';
import { migrate } from '../../src/db/migrations.js';
import { cases, mutate, runCase } from '../support/fuzz.js';

const arg = (name: string, dflt: number) => {
  const i = process.argv.indexOf(name);
  return i > 0 ? Number(process.argv[i + 1]) : dflt;
};
const count = arg('--cases', 1000);
const seed = arg('--seed', Date.now() % 1_000_000);
const which = process.argv.includes('--all') ? 'all' : 'small';

const admin = process.env.TEST_DATABASE_URL ?? 'postgres://postgres@127.0.0.1:5432/postgres';
const name = `he_fuzz_${randomBytes(4).toString('hex')}`;
const a = new pg.Client({ connectionString: admin });
await a.connect();
await a.query(`CREATE DATABASE ${name}`);
const url = new URL(admin);
url.pathname = `/${name}`;
const pool = new pg.Pool({ connectionString: url.toString(), max: 4 });
pool.on('error', () => {});
let broken = 0;
const tally = new Map<string, { n: number; exits: Record<number, number>; rejected: number }>();
const started = Date.now();
try {
  await migrate(pool);
  for (const c of cases(count, seed, which)) {
    const r = await runCase(pool, `fuzz${c.caseSeed}`, c.seed.name, mutate(c.seed, c.mutation, c.caseSeed));
    const t = tally.get(c.mutation) ?? { n: 0, exits: {}, rejected: 0 };
    t.n++;
    t.exits[r.exit] = (t.exits[r.exit] ?? 0) + 1;
    t.rejected += r.rejected;
    tally.set(c.mutation, t);
    if (r.problems.length) {
      broken++;
      console.log(`BROKEN ${c.seed.name} ${c.mutation} --seed ${c.caseSeed}: ${r.problems.join('; ')}`);
    }
  }
} finally {
  await pool.end();
  await a.query(`DROP DATABASE IF EXISTS ${name} WITH (FORCE)`);
  await a.end();
}
console.log(`fuzz: ${count} cases from seed ${seed} (${which} seeds) in ${((Date.now() - started) / 1000).toFixed(0)} s, ${broken} broke an invariant`);
for (const [m, t] of tally) console.log(`  ${m.padEnd(18)} ${String(t.n).padStart(5)} cases  exits ${JSON.stringify(t.exits)}  rejected records ${t.rejected}`);
process.exitCode = broken ? 1 : 0;
