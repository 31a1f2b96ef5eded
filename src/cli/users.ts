import { Command } from 'commander';
import { createApiKey, listApiKeys, revokeApiKey} from '../auth/api-keys.js';
import { ConfigError } from '../errors.js';
import { addDbOptions, printJson, withDatabase, type DbOptions } from './context.js';
import { renderTable } from './format.js';
import { log } from './log.js';
import { createUser, listUsers } from '../db/users.js';

const when = (d: Date | null) => (d ? d.toISOString().replace(/\.\d+Z$/, 'Z') : '-');

export function usersCommand(): Command {
  const cmd = new Command('users').description('people whose data the server accepts (each has API keys)');
  addDbOptions(
    cmd
      .command('create')
      .description('create a user')
      .argument('<name>', 'user name (the --user of import, the owner of keys)')
      .option('--json', 'print the result as JSON')
      .addHelpText('after', '\nExample:\n  $ healthexport users create jane'),
  ).action(async (name: string, o: DbOptions & { json?: boolean }) => {
    await withDatabase(o, async (db) => {
      const u = await createUser(db.pool, name);
      if (o.json) return printJson(u);
      console.log(`created user ${u.name} (id ${u.id}); give it a key: healthexport keys create --user ${JSON.stringify(u.name)}`);
    });
  });
  addDbOptions(
    cmd
      .command('list')
      .description('list users with their number of active keys')
      .option('--json', 'print as JSON')
      .addHelpText('after', '\nExample:\n  $ healthexport users list --json'),
  ).action(async (o: DbOptions & { json?: boolean }) => {
    await withDatabase(o, async (db) => {
      const rows = await listUsers(db.pool);
      if (o.json) return printJson(rows);
      if (!rows.length) return console.log('no users');
      console.log(renderTable(['id', 'name', 'active keys', 'created'], rows.map((u) => [u.id, u.name, u.activeKeys, when(u.createdAt)])));
    }, { readOnly: true });
  });
  return cmd;
}

function keyId(v: string): number {
  const n = Number(v);
  if (!Number.isInteger(n) || n < 1) throw new ConfigError(`expected a key id (a number, see "keys list"), got "${v}"`);
  return n;
}

export function keysCommand(): Command {
  const cmd = new Command('keys').description('API keys for serve (shown once, stored hashed)');
  addDbOptions(
    cmd
      .command('create')
      .description('create an API key for a user and print it (once)')
      .requiredOption('--user <name>', 'owner of the key')
      .option('--label <text>', 'what the key is for (e.g. "iPhone")')
      .option('--json', 'print { key, prefix, id, userId } as JSON')
      .addHelpText('after', '\nExample:\n  $ healthexport keys create --user jane --label iphone'),
  ).action(async (o: DbOptions & { user: string; label?: string; json?: boolean }) => {
    await withDatabase(o, async (db) => {
      const k = await createApiKey(db.pool, o.user, o.label);
      if (o.json) return printJson(k);
      console.log(k.key);
      log.info(
        `API key ${k.id} for ${o.user} (prefix ${k.prefix}). This is the only time it is shown: only a hash is stored.\n` +
          'Send it as "Authorization: Bearer <key>", "X-API-Key: <key>" or "api-key: <key>".',
      );
    });
  });
  addDbOptions(
    cmd
      .command('list')
      .description('list keys (never the keys themselves: prefix, label, last use)')
      .option('--user <name>', 'only this user\'s keys')
      .option('--json', 'print as JSON')
      .addHelpText('after', '\nExample:\n  $ healthexport keys list --user jane'),
  ).action(async (o: DbOptions & { user?: string; json?: boolean }) => {
    await withDatabase(o, async (db) => {
      const rows = await listApiKeys(db.pool, o.user);
      if (o.json) return printJson(rows);
      if (!rows.length) return console.log('no keys');
      console.log(
        renderTable(
          ['id', 'user', 'prefix', 'label', 'created', 'last used', 'revoked'],
          rows.map((k) => [k.id, k.userName, k.prefix, k.label ?? '', when(k.createdAt), when(k.lastUsedAt), when(k.revokedAt)]),
        ),
      );
    }, { readOnly: true });
  });
  addDbOptions(
    cmd
      .command('revoke')
      .description('revoke a key (a running serve stops accepting it within a minute)')
      .argument('<id>', 'key id (see keys list)', keyId)
      .addHelpText('after', '\nExample:\n  $ healthexport keys revoke 3'),
  ).action(async (id: number, o: DbOptions) => {
    await withDatabase(o, async (db) => {
      if (!(await revokeApiKey(db.pool, id))) throw new ConfigError(`no active key with id ${id}`);
      console.log(`revoked key ${id}`);
    });
  });
  return cmd;
}
