// What one webhook request costs the delivering process: Hookline's sender (its target policy,
// deadline, 4 KiB read and signed headers) against a plain undici `request` with the same body
// and headers, 32 at a time, to the benchmarks' receiver. CPU µs per request of this process.
import { Agent, request } from 'undici';
import { createTargetPolicy } from '../src/core/targets.js';
import { createSender } from '../src/dispatcher/send.js';
import { orderPayload } from './engine.js';
import { type ReceiverProcess, round } from './lib.js';

const HEADERS = {
  'content-type': 'application/json',
  'user-agent': 'Hookline/0.1.0',
  'webhook-id': 'RGVsaXZlcnk6MDE5M2FiY2QtMTIzNC03MDAwLTgwMDAtMDAwMDAwMDAwMDAx',
  'webhook-timestamp': '1733500000',
  'webhook-signature': 'v1,K5oZfzN95Z9UVu1EsfQmfVNQhnkZ2pj9o9NDN/H/pI4=',
  'x-hookline-signature': 'sha256=2b9a197f337de59f5456ed44b1f4267d53508679199da8fda3d3437f1ffe948e',
};

async function cpuPerRequest(requests: number, one: () => Promise<void>): Promise<number> {
  const cpu = process.cpuUsage();
  let i = 0;
  await Promise.all(
    Array.from({ length: 32 }, async () => {
      while (i++ < requests) await one();
    }),
  );
  const used = process.cpuUsage(cpu);
  return round((used.user + used.system) / requests, 0);
}

export async function senderCost(receiver: ReceiverProcess, requests: number) {
  const url = `${receiver.url}/sender`;
  const body = JSON.stringify({ eventType: 'order.paid', data: orderPayload(1) });
  const agent = new Agent({ connections: 32, keepAliveTimeout: 30_000 });
  const sender = createSender(createTargetPolicy('127.0.0.1'));
  try {
    const plain = () =>
      request(url, { method: 'POST', headers: HEADERS, body, dispatcher: agent }).then((r) => r.body.dump());
    const ours = () =>
      sender
        .send({ url, headers: HEADERS, body, timeoutMs: 10_000, allowInvalidCerts: false })
        .then(() => {});
    // Warmed up, then alternated: the median of three each.
    await cpuPerRequest(2000, plain);
    await cpuPerRequest(2000, ours);
    const a: number[] = [];
    const b: number[] = [];
    for (let r = 0; r < 3; r++) {
      a.push(await cpuPerRequest(requests, plain));
      b.push(await cpuPerRequest(requests, ours));
    }
    const median = (xs: number[]) => [...xs].sort((x, y) => x - y)[1] as number;
    return { plainUndiciCpuUs: median(a), hooklineSenderCpuUs: median(b) };
  } finally {
    await agent.close();
    await sender.close();
  }
}
