import { useEffect, useMemo, useRef, useState } from 'react';
import { useQuery } from 'urql';
import { graphql, operationText } from '../graphql';
import { subscribe, type Transport } from '../live';
import { href } from '../route';
import { Ring } from '../ring';
import { Badge } from '../ui';
import { Chart, type Series } from './Chart';
import { VirtualList } from './VirtualList';

const LOGS = operationText(`subscription LiveLog($webhookId: ID, $status: [DeliveryStatus!]) {
  deliveryLogs(webhookId: $webhookId, status: $status) {
    id attemptNumber status startedAt durationMs responseStatus errorKind webhookId deliveryId
  }
}`);

const NamesQuery = graphql(`
  query WebhookNames {
    webhooks(first: 100) {
      edges {
        node {
          id
          name
        }
      }
    }
  }
`);

interface Entry {
  id: string;
  attemptNumber: number;
  status: string;
  startedAt: string;
  durationMs: number;
  responseStatus: number | null;
  errorKind: string | null;
  webhookId: string;
  deliveryId: string;
}

/** HH:MM:SS.mmm in local time: attempts a few ms apart must read apart. */
const clock = (iso: string) => {
  const d = new Date(iso);
  const two = (n: number) => String(n).padStart(2, '0');
  return `${two(d.getHours())}:${two(d.getMinutes())}:${two(d.getSeconds())}.${String(d.getMilliseconds()).padStart(3, '0')}`;
};

/** Attempts kept on the page: the oldest go beyond this, so memory stays flat however long it runs. */
export const CAPACITY = 10_000;
const CHART_SECONDS = 60;
const STATUSES = ['SUCCEEDED', 'AWAITING_RETRY', 'FAILED', 'DISCARDED'] as const;

/**
 * Attempts as they are recorded, newest first. Messages go into a plain buffer as they arrive
 * and the page renders at most once a frame (a burst of 1,000 a second is ~17 per render), the
 * list renders only the rows in view, and the chart is redrawn once a second.
 */
export function LiveLog() {
  const [names] = useQuery({ query: NamesQuery });
  const nameOf = useMemo(
    () => new Map(names.data?.webhooks.edges.map(({ node }) => [node.id, node.name]) ?? []),
    [names.data],
  );
  const [webhookId, setWebhookId] = useState('');
  const [status, setStatus] = useState('');
  const [paused, setPaused] = useState(false);
  const [transport, setTransport] = useState<Transport>('connecting');
  const [error, setError] = useState('');
  const [, setVersion] = useState(0);
  const [series, setSeries] = useState<Series>({ seconds: [], successes: [], failures: [] });
  const ring = useRef(new Ring<Entry>(CAPACITY));
  const held = useRef(new Ring<Entry>(CAPACITY)); // arrived while paused
  const pausedRef = useRef(paused);
  const counts = useRef(new Map<number, [number, number]>());
  const received = useRef(0);

  useEffect(() => {
    pausedRef.current = paused;
    if (!paused && held.current.length) {
      for (let i = held.current.length - 1; i >= 0; i--) ring.current.push(held.current.at(i)!);
      held.current.clear();
    }
  }, [paused]);

  // A new filter starts a new log.
  useEffect(() => {
    ring.current.clear();
    held.current.clear();
    counts.current.clear();
  }, [webhookId, status]);

  // The server closes a subscription that falls 1,000 messages behind (a page held up by a
  // busy machine): subscribe again, keeping what was received; the gap is in Deliveries.
  const [resubscribed, setResubscribed] = useState(0);
  useEffect(() => {
    setError('');
    let again: ReturnType<typeof setTimeout> | undefined;
    const variables = { webhookId: webhookId || null, status: status ? [status] : null };
    const stop = subscribe<{ deliveryLogs: Entry }>(LOGS, variables, {
      next: ({ deliveryLogs: a }) => {
        received.current++;
        (pausedRef.current ? held.current : ring.current).push(a);
        const second = Math.floor(Date.now() / 1000);
        const c = counts.current.get(second) ?? [0, 0];
        c[a.status === 'SUCCEEDED' ? 0 : 1]++;
        counts.current.set(second, c);
      },
      error: (message) => {
        if (/too slow/.test(message)) {
          setError(`${message}: subscribed again; attempts in between are in Deliveries.`);
          again = setTimeout(() => setResubscribed((n) => n + 1), 500);
        } else setError(message);
      },
      transport: setTransport,
    });
    return () => {
      clearTimeout(again);
      stop();
    };
  }, [webhookId, status, resubscribed]);

  // One render a frame when something arrived; the chart once a second.
  useEffect(() => {
    let frame = 0;
    let seen = -1;
    const tick = () => {
      if (ring.current.version !== seen) {
        seen = ring.current.version;
        setVersion(seen);
      }
      frame = requestAnimationFrame(tick);
    };
    frame = requestAnimationFrame(tick);
    const chart = setInterval(() => {
      const now = Math.floor(Date.now() / 1000);
      const s: Series = { seconds: [], successes: [], failures: [] };
      for (let t = now - CHART_SECONDS; t < now; t++) {
        const c = counts.current.get(t);
        s.seconds.push(t);
        s.successes.push(c?.[0] ?? 0);
        s.failures.push(c?.[1] ?? 0);
      }
      for (const t of counts.current.keys()) if (t < now - CHART_SECONDS) counts.current.delete(t);
      setSeries(s);
    }, 1000);
    return () => {
      cancelAnimationFrame(frame);
      clearInterval(chart);
    };
  }, []);

  const list = ring.current;
  const lastSecond = series.successes.length
    ? series.successes[series.successes.length - 1]! + series.failures[series.failures.length - 1]!
    : 0;
  return (
    <div>
      <div className="toolbar">
        <h1>Live log</h1>
        <div className="actions">
          <span className={`transport transport-${transport}`} data-testid="transport">
            {transport}
          </span>
          <button type="button" onClick={() => setPaused(!paused)} data-testid="pause">
            {paused ? `Resume (${held.current.length} new)` : 'Pause'}
          </button>
          <button type="button" onClick={() => (ring.current.clear(), held.current.clear())}>
            Clear
          </button>
        </div>
      </div>
      <div className="filters">
        <select aria-label="Webhook" value={webhookId} onChange={(e) => setWebhookId(e.target.value)}>
          <option value="">All webhooks</option>
          {[...nameOf].map(([id, name]) => (
            <option key={id} value={id}>
              {name}
            </option>
          ))}
        </select>
        <select aria-label="Attempt status" value={status} onChange={(e) => setStatus(e.target.value)}>
          <option value="">Any status</option>
          {STATUSES.map((s) => (
            <option key={s}>{s}</option>
          ))}
        </select>
        <span
          className="sub"
          data-testid="live-stats"
          data-received={received.current}
          data-resubscribed={resubscribed}
          data-shown={list.length}
        >
          {received.current} received · {lastSecond}/s · showing the newest {list.length} (at most {CAPACITY})
        </span>
      </div>
      {error && (
        <p className="error" role="alert">
          {error}
        </p>
      )}
      <Chart data={series} width={Math.min(1100, window.innerWidth - 64)} />
      <div className="vhead">
        <span>time</span>
        <span>webhook</span>
        <span>#</span>
        <span>status</span>
        <span>result</span>
        <span>duration</span>
      </div>
      <VirtualList
        testId="live-log"
        count={list.length}
        rowHeight={28}
        height={420}
        row={(i) => {
          const a = list.at(i)!;
          return (
            <div
              className="live-row"
              data-testid="live-row"
              data-status={a.status}
              data-webhook={a.webhookId}
            >
              <span>{clock(a.startedAt)}</span>
              <span>
                <a href={href('webhooks', a.webhookId)}>
                  {nameOf.get(a.webhookId) ?? a.webhookId.slice(0, 12)}
                </a>
              </span>
              <span>{a.attemptNumber}</span>
              <span>
                <Badge value={a.status} />
              </span>
              <span>{a.responseStatus ?? a.errorKind ?? ''}</span>
              <span>{a.durationMs} ms</span>
            </div>
          );
        }}
      />
    </div>
  );
}
