import { useState } from 'react';
import { useMutation, useQuery } from 'urql';
import { graphql, type ResultOf } from '../graphql';
import { href } from '../route';
import { Badge, ErrorNote, Json, Section, when } from '../ui';

const DeliveriesQuery = graphql(`
  query Deliveries(
    $webhookId: ID
    $status: [DeliveryStatus!]
    $since: DateTime
    $until: DateTime
    $after: String
  ) {
    deliveries(
      webhookId: $webhookId
      status: $status
      since: $since
      until: $until
      first: 25
      after: $after
    ) {
      totalCount
      pageInfo {
        hasNextPage
        endCursor
      }
      edges {
        node {
          id
          status
          attemptCount
          createdAt
          lastStatusCode
          lastError
          nextAttemptAt
          event {
            eventType
            entityFqn
          }
          webhook {
            id
            name
          }
        }
      }
    }
  }
`);

const AttemptsQuery = graphql(`
  query Attempts($id: ID!) {
    delivery(id: $id) {
      id
      attempts {
        id
        attemptNumber
        status
        startedAt
        durationMs
        requestUrl
        requestHeaders
        requestBody
        responseStatus
        responseHeaders
        responseBody
        errorKind
        errorMessage
      }
    }
  }
`);

const Retry = graphql(`
  mutation Retry($id: ID!) {
    retryDelivery(id: $id) {
      id
      status
    }
  }
`);
const Replay = graphql(`
  mutation Replay($webhookId: ID!, $since: DateTime, $until: DateTime, $status: [DeliveryStatus!]) {
    replayDeliveries(webhookId: $webhookId, since: $since, until: $until, status: $status)
  }
`);

const STATUSES = ['PENDING', 'IN_FLIGHT', 'AWAITING_RETRY', 'SUCCEEDED', 'FAILED', 'DISCARDED'] as const;
type Status = (typeof STATUSES)[number];
const QUEUED = new Set<string>(['PENDING', 'IN_FLIGHT', 'AWAITING_RETRY']);
/** A datetime-local input's value as the API's DateTime, or null. */
const iso = (local: string) => (local ? new Date(local).toISOString() : null);

export function Deliveries({ webhookId }: { webhookId?: string }) {
  const [status, setStatus] = useState('');
  const [since, setSince] = useState('');
  const [until, setUntil] = useState('');
  const [after, setAfter] = useState<string[]>([]);
  const [open, setOpen] = useState<string | null>(null);
  const [retried, retry] = useMutation(Retry);
  const [replayed, replay] = useMutation(Replay);
  const [res, refetch] = useQuery({
    query: DeliveriesQuery,
    variables: {
      webhookId: webhookId ?? null,
      status: status ? [status as Status] : null,
      since: iso(since),
      until: iso(until),
      after: after.at(-1) ?? null,
    },
  });
  const page = res.data?.deliveries;
  const again = () => refetch({ requestPolicy: 'network-only' });
  return (
    <Section
      title={webhookId ? 'Deliveries' : 'All deliveries'}
      actions={
        <button type="button" onClick={again}>
          Refresh
        </button>
      }
    >
      <div className="filters">
        <select
          aria-label="Delivery status"
          value={status}
          onChange={(e) => (setStatus(e.target.value), setAfter([]))}
        >
          <option value="">Any status</option>
          {STATUSES.map((s) => (
            <option key={s}>{s}</option>
          ))}
        </select>
        <label>
          from{' '}
          <input
            type="datetime-local"
            aria-label="Since"
            value={since}
            onChange={(e) => (setSince(e.target.value), setAfter([]))}
          />
        </label>
        <label>
          to{' '}
          <input
            type="datetime-local"
            aria-label="Until"
            value={until}
            onChange={(e) => (setUntil(e.target.value), setAfter([]))}
          />
        </label>
        {webhookId && (
          <button
            type="button"
            title="Queue again the finished deliveries in this time range (and status)"
            onClick={() =>
              void replay({
                webhookId,
                since: iso(since),
                until: iso(until),
                status: status ? [status as Status] : null,
              }).then(again)
            }
          >
            Replay range
          </button>
        )}
        {page && <span className="sub">{page.totalCount} deliveries</span>}
      </div>
      <ErrorNote error={res.error ?? retried.error ?? replayed.error} />
      {replayed.data && <p className="note">{replayed.data.replayDeliveries} deliveries queued again.</p>}
      <table className="list" data-testid="deliveries">
        <thead>
          <tr>
            <th>Created</th>
            <th>Status</th>
            <th>Event</th>
            {!webhookId && <th>Webhook</th>}
            <th>Attempts</th>
            <th>Last result</th>
            <th />
          </tr>
        </thead>
        <tbody>
          {page?.edges.map(({ node: d }) => (
            <DeliveryRow
              key={d.id}
              d={d}
              showWebhook={!webhookId}
              open={open === d.id}
              onToggle={() => setOpen(open === d.id ? null : d.id)}
              onRetry={() => void retry({ id: d.id }).then(again)}
            />
          ))}
        </tbody>
      </table>
      <div className="pager">
        {after.length > 0 && (
          <button type="button" onClick={() => setAfter(after.slice(0, -1))}>
            Newer
          </button>
        )}
        {page?.pageInfo.hasNextPage && (
          <button type="button" onClick={() => setAfter([...after, page.pageInfo.endCursor!])}>
            Older
          </button>
        )}
      </div>
    </Section>
  );
}

type Row = ResultOf<typeof DeliveriesQuery>['deliveries']['edges'][number]['node'];

function DeliveryRow(props: {
  d: Row;
  showWebhook: boolean;
  open: boolean;
  onToggle: () => void;
  onRetry: () => void;
}) {
  const { d } = props;
  return (
    <>
      <tr data-testid="delivery-row" data-status={d.status} className={props.open ? 'open' : ''}>
        <td>
          <button type="button" className="link" onClick={props.onToggle} aria-expanded={props.open}>
            {when(d.createdAt)}
          </button>
        </td>
        <td>
          <Badge value={d.status} />
        </td>
        <td>
          {d.event.eventType} <span className="sub">{d.event.entityFqn}</span>
        </td>
        {props.showWebhook && (
          <td>
            <a href={href('webhooks', d.webhook.id)}>{d.webhook.name}</a>
          </td>
        )}
        <td>{d.attemptCount}</td>
        <td>{d.lastStatusCode ?? d.lastError ?? '–'}</td>
        <td>
          <button type="button" onClick={props.onRetry} disabled={QUEUED.has(d.status)}>
            Retry
          </button>
        </td>
      </tr>
      {props.open && (
        <tr className="detail">
          <td colSpan={7}>
            <Attempts id={d.id} />
          </td>
        </tr>
      )}
    </>
  );
}

/** Every attempt with its request and response, masked by the API as it stores them. */
function Attempts({ id }: { id: string }) {
  const [res] = useQuery({ query: AttemptsQuery, variables: { id }, requestPolicy: 'network-only' });
  if (res.error) return <ErrorNote error={res.error} />;
  const attempts = res.data?.delivery?.attempts;
  if (!attempts) return <p>Loading…</p>;
  if (!attempts.length) return <p className="sub">No attempt yet.</p>;
  return (
    <div className="attempts">
      {attempts.map((a) => (
        <details key={a.id} open={a.attemptNumber === attempts.length}>
          <summary>
            #{a.attemptNumber} {when(a.startedAt)} · <Badge value={a.status} />{' '}
            {a.responseStatus ?? a.errorKind} · {a.durationMs} ms{' '}
            {a.errorMessage ? `· ${a.errorMessage}` : ''}
          </summary>
          <div className="cols">
            <div>
              <h3>Request</h3>
              <code>POST {a.requestUrl}</code>
              <Json value={a.requestHeaders} />
              <Json value={a.requestBody} />
            </div>
            <div>
              <h3>Response</h3>
              <Json value={a.responseHeaders ?? {}} />
              <Json value={a.responseBody ?? ''} />
            </div>
          </div>
        </details>
      ))}
    </div>
  );
}
