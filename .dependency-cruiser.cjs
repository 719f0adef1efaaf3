// The layers of src/ and the directions imports may take between them (docs/architecture.md).
// `npm run layers` checks them; CI runs it. Type-only imports count like any other.

// The floor: the model types and the rules every layer shares, and the small leaf modules.
const leaves = '^src/(errors|ids|json-text|validation|memo|batch|version)[.]ts$';
const floor = `^src/core/|${leaves}`;
// What every part of the process runs on: settings, logging, the database, tracing, metrics.
const platform = '^src/(config|logger|metrics)[.]ts$|^src/(db|tracing)/';
// The resources and the engine: what the API asks for and what delivers.
const domain = '^src/(auth|webhooks|events|deliveries|providers|dispatcher|pubsub)/';
// The API: the GraphQL schema and resolvers, the HTTP edge, and the app that serves them.
const api = '^src/(graphql|http)/|^src/app[.]ts$';
// What wires it all together.
const wiring = '^src/(main|cli)[.]ts$';
// The services the API calls (and one another): subscriptions are the live service, and
// webhooks/env.ts is the start-up set-up that calls the webhook service as the API does.
const services = '^src/[^/]+/service[.]ts$|^src/pubsub/subscriptions[.]ts$|^src/webhooks/env[.]ts$';

/** @type {import('dependency-cruiser').IConfiguration} */
module.exports = {
  forbidden: [
    {
      name: 'no-circular',
      comment: 'No file imports, even for a type, a file that imports it back.',
      severity: 'error',
      from: {},
      to: { circular: true },
    },
    {
      name: 'floor-imports-only-the-floor',
      comment: 'core/ and the leaf modules import nothing above them: every layer can read them.',
      severity: 'error',
      from: { path: floor },
      to: { path: '^src/', pathNot: floor },
    },
    {
      name: 'leaves-import-only-leaves',
      comment: 'errors, ids, json-text, validation, memo, batch and version are below core/ too.',
      severity: 'error',
      from: { path: leaves },
      to: { path: '^src/', pathNot: leaves },
    },
    {
      name: 'platform-knows-no-domain',
      comment: 'Settings, logging, the database, tracing and metrics import only the floor and each other.',
      severity: 'error',
      from: { path: platform },
      to: { path: `${domain}|${api}|${wiring}` },
    },
    {
      name: 'domain-knows-no-api',
      comment: 'Services and the engine never import the GraphQL layer, the HTTP edge or the wiring.',
      severity: 'error',
      from: { path: domain },
      to: { path: `${api}|${wiring}` },
    },
    {
      name: 'graphql-holds-no-sql',
      comment: 'The schema layer reaches data through the services: the queries live in the repositories.',
      severity: 'error',
      from: { path: '^src/graphql/' },
      to: { path: '^src/db/' },
    },
    {
      name: 'only-main-wires',
      comment: 'main.ts (and cli.ts, which starts it) is imported by no other module.',
      severity: 'error',
      from: { path: '^src/', pathNot: wiring },
      to: { path: wiring },
    },
    {
      name: 'engine-calls-no-service',
      comment:
        'Below the services nothing calls one: the engine reports up through EngineReports and the functions main hands it.',
      severity: 'error',
      from: { path: '^src/', pathNot: `${services}|${api}|${wiring}` },
      to: { path: services },
    },
    {
      name: 'engine-hears-no-subscriber',
      comment:
        'The dispatcher tells subscribers what happened by NOTIFY (db/notify.ts), never by calling pubsub/.',
      severity: 'error',
      from: { path: '^src/(dispatcher|events|webhooks|deliveries|auth)/' },
      to: { path: '^src/pubsub/' },
    },
    {
      name: 'engine-is-downstream',
      comment:
        'Only main (which wires it) and the delivery service (test sends, previews) import the dispatcher: publishing hands deliveries over through Handoff (events/handoff.ts).',
      severity: 'error',
      from: { path: '^src/', pathNot: '^src/dispatcher/|^src/deliveries/service[.]ts$|^src/main[.]ts$' },
      to: { path: '^src/dispatcher/' },
    },
    {
      name: 'renderers-are-pure',
      comment: 'providers/ turns events into request bodies: it imports only the floor.',
      severity: 'error',
      from: { path: '^src/providers/' },
      to: { path: '^src/', pathNot: `^src/providers/|${floor}` },
    },
    {
      name: 'not-to-unresolvable',
      comment: 'Every import resolves to a file or an installed package.',
      severity: 'error',
      from: {},
      to: { couldNotResolve: true },
    },
    {
      name: 'src-not-to-dev-dep',
      comment: 'What src/ imports is installed in production: a dependency, never a devDependency.',
      severity: 'error',
      from: { path: '^src/' },
      to: { dependencyTypes: ['npm-dev'] },
    },
  ],
  options: {
    doNotFollow: { path: 'node_modules' },
    // Type-only imports are dependencies too: a circle of types is still a circle.
    tsPreCompilationDeps: true,
    tsConfig: { fileName: 'tsconfig.json' },
    enhancedResolveOptions: {
      exportsFields: ['exports'],
      conditionNames: ['import', 'require', 'node', 'default', 'types'],
      extensions: ['.ts', '.js', '.json'],
    },
  },
};
