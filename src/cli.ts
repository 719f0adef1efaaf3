import { parseArgs } from 'node:util';
import { resetBootstrapToken } from './auth/tokens.js';
import { ConfigError, parseConfig } from './config.js';
import { openDatabase } from './db/client.js';
import { migrate } from './db/migrate.js';
import { createLogger, serializeError } from './logger.js';
import { type Role, roles, serve, stopOnSignals } from './main.js';

const usage = `Usage: hookline [command]

Commands:
  serve          run the GraphQL API and the dispatcher (the default);
                 --role api | worker | all (default all) runs one part or both
  migrate        apply database migrations and exit
  print-schema   print the GraphQL schema (SDL)
  admin-token    revoke the generated ADMIN token and print a new one

Configuration comes from the environment; see README.md.`;

async function main(argv: string[]) {
  const { positionals, values } = parseArgs({
    args: argv,
    allowPositionals: true,
    options: { help: { type: 'boolean', short: 'h' }, role: { type: 'string', default: 'all' } },
  });
  const command = positionals[0] ?? 'serve';
  if (values.help || command === 'help') {
    process.stdout.write(`${usage}\n`);
    return;
  }
  if (command === 'print-schema') {
    // Loaded for this command only: the schema pulls in all of GraphQL, which `serve --role
    // worker` never needs (and starts faster without).
    const { printedSchema } = await import('./graphql/schema.js');
    process.stdout.write(printedSchema());
    return;
  }
  if (!['serve', 'migrate', 'admin-token'].includes(command)) {
    process.stderr.write(`hookline: unknown command "${command}"\n\n${usage}\n`);
    process.exitCode = 2;
    return;
  }

  const config = parseConfig(process.env);
  const logger = createLogger(config.logLevel);
  if (command === 'serve') {
    const role = values.role as Role;
    if (!roles.includes(role)) {
      process.stderr.write(`hookline: --role must be one of ${roles.join(', ')} (got "${values.role}")\n`);
      process.exitCode = 2;
      return;
    }
    stopOnSignals(await serve(config, logger, role), logger);
    return;
  }
  const database = await openDatabase(config.database, { maxConnections: 1, logger });
  try {
    await migrate(database, config.database);
    if (command === 'admin-token') {
      process.stdout.write(`${await resetBootstrapToken(database)}\n`);
    } else {
      logger.info('migrations applied');
    }
  } finally {
    await database.close();
  }
}

main(process.argv.slice(2)).catch((error) => {
  if (error instanceof ConfigError) {
    for (const line of error.problems) process.stderr.write(`hookline: ${line}\n`);
  } else {
    const { message } = serializeError(error);
    process.stderr.write(`hookline: could not start: ${message}\n`);
  }
  process.exit(1);
});
