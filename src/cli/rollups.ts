/**
 * `rollups rebuild | zones` and `sources priority`: the daily rollups that summary and the
 * health dashboard read. Imports keep them current; these recompute them from the rows, choose
 * the zones whose days are kept, and set which source counts when devices overlap. Each one
 * drops the user's cached summaries (REDIS_URL), since the numbers behind them may change.
 */
import { Command } from 'commander';
import { listUsers } from '../db/users.js';
import { ConfigError } from '../errors.js';
import { addZone, DEFAULT_PRIORITY, listZones, rebuildRollups, removeZone, setSourcePriority, sourcePriority } from '../rollups/rebuild.js';
import {
  addDbOptions,
  addRedisOption,
  defaultUser,
  openCommandCache,
  printJson,
  resolveUser,
  tzOption,
  withDatabase,
  type CacheFlags,
  type DbOptions,
} from './context.js';
import { renderTable } from './format.js';

type Flags = DbOptions & CacheFlags & { user?: string; json?: boolean };

async function dropCached(o: CacheFlags, userIds: number[]): Promise<void> {
  const cache = openCommandCache(o);
  try {
    for (const id of userIds) await cache.invalidateUser(id);
  } finally {
    await cache.close();
  }
}

function withUser(cmd: Command, required = true): Command {
  const desc = 'whose rollups (default: $HEALTHEXPORT_USER or "default")';
  return addRedisOption(addDbOptions(required ? cmd.option('--user <name>', desc, defaultUser()) : cmd.option('--user <name>', `${desc}; omitted: every user`)));
}

export function rollupsCommand(): Command {
  const cmd = new Command('rollups').description('the daily rollups behind summary and the health dashboard');
  withUser(
    cmd
      .command('rebuild')
      .description('recompute the rollups of one user (or all) from the stored rows')
      .option('--json', 'print as JSON')
      .addHelpText(
        'after',
        `
Imports keep the rollups current; rebuild after writing rows by other means (SQL), or to check.

Examples:
  $ healthexport rollups rebuild --user jane
  $ healthexport rollups rebuild              # every user`,
      ),
    false,
  ).action(async (o: Flags) => {
    const results = await withDatabase(o, async (db) => {
      const users = o.user ? [{ id: await resolveUser(db.pool, o.user), name: o.user }] : await listUsers(db.pool);
      const out = [];
      for (const u of users) out.push({ user: u.name, ...(await rebuildRollups(db.pool, u.id)) });
      return out;
    });
    await dropCached(o, results.map((r) => r.userId));
    if (o.json) return printJson(results);
    if (!results.length) return console.log('no users');
    console.log(renderTable(['user', 'quarter rows', 'day rows', 'ms'], results.map((r) => [r.user, r.quarters, r.days, r.ms])));
  });

  const zones = cmd.command('zones').description('time zones whose days are kept for a user (UTC always is)');
  withUser(
    zones
      .command('add')
      .description('keep days in a zone from now on (computes the ones already due)')
      .argument('<zone>', 'IANA time zone, e.g. Asia/Kolkata', tzOption)
      .addHelpText('after', '\nExample:\n  $ healthexport rollups zones add --user jane America/Los_Angeles'),
  ).action(async (zone: string, o: Flags) => {
    const userId = await withDatabase(o, async (db) => {
      const id = await resolveUser(db.pool, o.user!);
      const n = await addZone(db.pool, id, zone);
      console.log(n ? `keeping days in ${zone} for ${o.user}: ${n} day rows computed` : `${zone} was already kept for ${o.user}`);
      return id;
    });
    await dropCached(o, [userId]);
  });
  withUser(
    zones
      .command('remove')
      .description('stop keeping days in a zone (summary still answers for it, from the 15-minute rollups)')
      .argument('<zone>', 'IANA time zone')
      .addHelpText('after', '\nExample:\n  $ healthexport rollups zones remove --user jane America/Los_Angeles'),
  ).action(async (zone: string, o: Flags) => {
    await withDatabase(o, async (db) => {
      const removed = await removeZone(db.pool, await resolveUser(db.pool, o.user!), zone);
      console.log(removed ? `no longer keeping days in ${zone} for ${o.user}` : `${zone} was not kept for ${o.user}`);
    });
  });
  withUser(
    zones.command('list').description('zones kept for a user').option('--json', 'print as JSON').addHelpText('after', '\nExample:\n  $ healthexport rollups zones list --user jane'),
  ).action(async (o: Flags) => {
    await withDatabase(o, async (db) => {
      const list = await listZones(db.pool, await resolveUser(db.pool, o.user!));
      if (o.json) return printJson(list);
      console.log(list.join('\n'));
    });
  });
  return cmd;
}

function patternsArg(v: string): string[] {
  const list = v.split(',').map((p) => p.trim()).filter(Boolean);
  if (!list.length || list.length > 32) throw new ConfigError(`expected 1 to 32 comma-separated source names, got "${v}"`);
  return list;
}

export function sourcesCommand(): Command {
  const cmd = new Command('sources').description('which source counts when devices record the same time');
  withUser(
    cmd
      .command('priority')
      .description('show or set the source priority of a user')
      .argument('[sources]', 'comma-separated parts of source names, best first', patternsArg)
      .option('--reset', `back to the default (${DEFAULT_PRIORITY.join(', ')}, then other apps)`)
      .option('--json', 'print as JSON')
      .addHelpText(
        'after',
        `
Cumulative metrics (steps, distance, energy, flights, exercise minutes, nutrition, ...) count
each 15 minutes once, from the best-ranked source that has data for them, as the Health app
does. A source ranks at the first entry its name contains (case-insensitive; "Jane's Apple
Watch" contains "Watch"); sources matching none come after, by name. Discrete metrics (heart
rate, weight, ...) always use every source. Changing it recounts the user's days.

Examples:
  $ healthexport sources priority --user jane
  $ healthexport sources priority --user jane "Watch,iPhone,Oura"
  $ healthexport sources priority --user jane --reset`,
      ),
  ).action(async (patterns: string[] | undefined, o: Flags & { reset?: boolean }) => {
    if (patterns && o.reset) throw new ConfigError('give sources or --reset, not both');
    const change = o.reset ? null : patterns;
    const result = await withDatabase(o, async (db) => {
      const id = await resolveUser(db.pool, o.user!);
      const moved = change !== undefined ? await setSourcePriority(db.pool, id, change) : null;
      return { id, priority: await sourcePriority(db.pool, id), moved };
    });
    if (result.moved !== null) await dropCached(o, [result.id]);
    if (o.json) return printJson({ user: o.user, priority: result.priority, reranked: result.moved });
    console.log(`source priority of ${o.user}: ${result.priority.join(' > ')} > other sources`);
    if (result.moved !== null) console.log(`${result.moved} quarter-hour rows re-ranked; days recounted`);
  });
  return cmd;
}
