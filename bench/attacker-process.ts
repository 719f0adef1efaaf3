// The abuse scenario's attackers, in a process of their own so that building and sending their
// documents never shares an event loop with the client being timed. On `start` each of
// `clients` loops, one request at a time, over documents built to make GraphQL validation
// expensive, each with a fresh comment so that no parse or validation cache helps; `stop`
// answers how many were sent and how each was answered.

const times = (n: number, piece: (i: number) => string) =>
  Array.from({ length: n }, (_, i) => piece(i)).join(' ');

/** The family of shapes that made graphql-js's overlapping-fields check quadratic. */
const shapes: ((salt: string) => string)[] = [
  (salt) => `{ me { ${times(4990, () => 'role')} } } # ${salt}`,
  (salt) => `{ me { ${times(1600, () => 'r: role')} } } # ${salt}`,
  (salt) => `{ me { ${times(2400, () => '...F')} } } fragment F on Me { role } # ${salt}`,
  (salt) =>
    `{ me { ${times(450, (i) => `...F${i}`)} } } ${times(450, (i) => `fragment F${i} on Me { role }`)} # ${salt}`,
  (salt) => `{ webhooks { ${times(20, () => `edges { ${times(20, () => 'node { id }')} }`)} } } # ${salt}`,
];

let running = false;
const answers = new Map<string, number>();
let loops: Promise<void>[] = [];

async function attack(url: string, token: string, client: number) {
  let n = 0;
  while (running) {
    const query = (shapes[n % shapes.length] as (salt: string) => string)(`${client}-${n}-${Math.random()}`);
    n++;
    try {
      const res = await fetch(`${url}/graphql`, {
        method: 'POST',
        headers: {
          'content-type': 'application/json',
          accept: 'application/graphql-response+json',
          authorization: `Bearer ${token}`,
        },
        body: JSON.stringify({ query }),
        signal: AbortSignal.timeout(60_000),
      });
      const body = (await res.json()) as { errors?: { extensions?: { code?: string } }[] };
      const key = `${res.status} ${body.errors?.[0]?.extensions?.code ?? 'ok'}`;
      answers.set(key, (answers.get(key) ?? 0) + 1);
    } catch (error) {
      const key = `failed ${(error as Error).name}`;
      answers.set(key, (answers.get(key) ?? 0) + 1);
    }
  }
}

type Command =
  { id: number; op: 'start'; url: string; token: string; clients: number } | { id: number; op: 'stop' };

process.on('message', async (command: Command) => {
  if (command.op === 'start') {
    running = true;
    answers.clear();
    loops = Array.from({ length: command.clients }, (_, i) => attack(command.url, command.token, i));
    process.send?.({ id: command.id, value: null });
  } else if (command.op === 'stop') {
    running = false;
    await Promise.all(loops);
    process.send?.({ id: command.id, value: Object.fromEntries(answers) });
  }
});
process.on('SIGTERM', () => process.exit(0));
process.send?.({ ready: true });
