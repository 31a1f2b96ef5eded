/**
 * `cache warm | stats | clear`: the Redis summary cache. Without REDIS_URL these print the
 * "cache off" notice and do nothing (exit 0); with a Redis that does not answer they fail with
 * one line (exit 1), since the cache is what they are about.
 */
import { Command } from 'commander';
import { type Cache, type CacheStats } from '../cache/cache.js';
import { DEFAULT_PERIODS, warmUser } from '../cache/warm.js';
import { ConfigError } from '../errors.js';
import {
  addDbOptions,
  addRedisOption,
  daysOption,
  defaultUser,
  openCommandCache,
  printJson,
  resolveUser,
  tzOption,
  withDatabase,
  type CacheFlags,
  type DbOptions,
} from './context.js';
import { formatBytes, renderTable } from './format.js';
import { listUsers } from '../db/users.js';

/**
 * The cache of a `cache ...` command: here an unreachable Redis is an error (exit 1, one line
 * with the reason) rather than a warning, since the cache is what the command is about.
 */
async function openRequired(o: CacheFlags): Promise<Cache> {
  let reason: string | null = null;
  const cache = openCommandCache(o, { warn: (_m, cause) => (reason ??= `cannot reach Redis at ${cause}`) });
  if (cache.enabled && !(await cache.available())) {
    await cache.close();
    throw new ConfigError(reason ?? `cannot reach Redis at ${cache.description}`);
  }
  return cache;
}

function periodsOption(v: string): number[] {
  return v.split(',').map((p) => daysOption(p.trim()));
}

export function renderStats(s: CacheStats): string {
  const ratio = s.hitRatio === null ? '-' : `${(s.hitRatio * 100).toFixed(1)} %`;
  return renderTable(
    ['', ''],
    [
      ['hits', s.hits],
      ['misses', s.misses],
      ['hit ratio', ratio],
      ['keys', s.keys],
      ...Object.entries(s.keysByKind).map(([k, n]) => [`  ${k}`, n] as [string, number]),
      ['memory', s.memoryBytes === undefined ? '-' : formatBytes(s.memoryBytes)],
    ],
  )
    .split('\n')
    .slice(2)
    .join('\n');
}

interface WarmFlags extends DbOptions, CacheFlags {
  user: string;
  allUsers?: boolean;
  days: number[];
  tz: string;
  json?: boolean;
}

interface ClearFlags extends DbOptions, CacheFlags {
  user?: string;
  json?: boolean;
}

export function cacheCommand(): Command {
  const cmd = new Command('cache').description('the Redis cache of summaries (REDIS_URL): warm, stats, clear');

  addRedisOption(
    addDbOptions(
      cmd
        .command('warm')
        .description('fill the cache for a user (latest values, daily summaries of recent metrics for 7 and 30 days, recent workouts)')
        .option('--user <name>', 'whose summaries (default: $HEALTHEXPORT_USER or "default")', defaultUser())
        .option('--all-users', 'every user (instead of --user)')
        .option('--days <list>', 'periods to fill, comma-separated', periodsOption, [...DEFAULT_PERIODS])
        .option('--tz <zone>', 'time zone of the days (IANA name)', tzOption, 'UTC')
        .option('--json', 'print as JSON')
        .addHelpText('after', '\nExample (cron, after the nightly import):\n  $ healthexport cache warm --all-users'),
    ),
  ).action(async (o: WarmFlags) => {
    const cache = await openRequired(o);
    try {
      if (!cache.enabled) {
        if (o.json) printJson({ enabled: false, users: [] });
        return;
      }
      await withDatabase(o, async (db) => {
        const users = o.allUsers ? await listUsers(db.pool) : [{ id: await resolveUser(db.pool, o.user), name: o.user }];
        const out: { user: string; userId: number; keys: number }[] = [];
        for (const u of users) {
          const keys = await warmUser(db.pool, cache, u.id, { days: o.days, tz: o.tz });
          out.push({ user: u.name, userId: u.id, keys });
          if (!o.json) console.log(`warmed ${keys} key${keys === 1 ? '' : 's'} for ${u.name}`);
        }
        if (o.json) printJson({ enabled: true, users: out });
        else if (!users.length) console.log('no users yet');
      });
    } finally {
      await cache.close();
    }
  });

  addRedisOption(cmd.command('stats').description('hit ratio (across processes), cached keys and their memory').option('--json', 'print as JSON').addHelpText('after', '\nExample:\n  $ healthexport cache stats --redis-url redis://127.0.0.1:6379')).action(
    async (o: CacheFlags & { json?: boolean }) => {
      const cache = await openRequired(o);
      try {
        const s = await cache.stats();
        if (o.json) return printJson(s);
        if (cache.enabled) console.log(renderStats(s));
      } finally {
        await cache.close();
      }
    },
  );

  addRedisOption(
    addDbOptions(
      cmd
        .command('clear')
        .description("delete cached summaries: one user's (--user) or everyone's")
        .option('--user <name>', 'only this user')
        .option('--json', 'print as JSON')
        .addHelpText('after', '\nExample:\n  $ healthexport cache clear --user jane'),
    ),
  ).action(async (o: ClearFlags) => {
    const cache = await openRequired(o);
    try {
      if (!cache.enabled) {
        if (o.json) printJson({ enabled: false, deleted: 0 });
        return;
      }
      const deleted =
        o.user === undefined
          ? await cache.clear()
          : await withDatabase(o, async (db) => cache.clear(await resolveUser(db.pool, o.user!)));
      if (o.json) printJson({ enabled: true, deleted });
      else console.log(`deleted ${deleted} key${deleted === 1 ? '' : 's'}`);
    } finally {
      await cache.close();
    }
  });
  return cmd;
}
