import { useState } from 'react';
import { useQuery } from 'urql';
import { graphql, type VariablesOf } from '../graphql';
import { go, href } from '../route';
import { Badge, ErrorNote, ms, percent } from '../ui';
import { WEBHOOK_TYPES, type WebhookType } from '../webhook-types';

export const WebhooksQuery = graphql(`
  query Webhooks($first: Int!, $after: String, $filter: WebhookFilter) {
    webhooks(first: $first, after: $after, filter: $filter) {
      totalCount
      pageInfo {
        hasNextPage
        endCursor
      }
      edges {
        node {
          id
          name
          displayName
          status
          enabled
          deleted
          webhookType
          domain
          owner {
            name
            type
          }
          tags {
            tagFQN
          }
          config {
            endpoint
          }
          health {
            attempts
            successRate
            p95DurationMs
          }
        }
      }
    }
  }
`);

type Filter = NonNullable<VariablesOf<typeof WebhooksQuery>['filter']>;
const STATUSES = ['ACTIVE', 'AWAITING_RETRY', 'DISABLED', 'FAILED', 'RETRY_LIMIT_REACHED'] as const;

export function Webhooks() {
  const [text, setText] = useState('');
  const [status, setStatus] = useState('');
  const [type, setType] = useState('');
  const [tag, setTag] = useState('');
  const [domain, setDomain] = useState('');
  const [includeDeleted, setIncludeDeleted] = useState(false);
  const [after, setAfter] = useState<string[]>([]);
  const filter: Filter = {
    ...(text ? { text } : {}),
    ...(status ? { status: [status as (typeof STATUSES)[number]] } : {}),
    ...(type ? { webhookType: [type as WebhookType] } : {}),
    ...(tag ? { tag } : {}),
    ...(domain ? { domain } : {}),
    includeDeleted,
  };
  const [res] = useQuery({
    query: WebhooksQuery,
    variables: { first: 50, after: after.at(-1) ?? null, filter },
  });
  const page = res.data?.webhooks;
  const reset =
    <T,>(set: (v: T) => void) =>
    (v: T) => {
      set(v);
      setAfter([]);
    };
  return (
    <div>
      <div className="toolbar">
        <h1>Webhooks {page ? <small data-testid="webhook-count">{page.totalCount}</small> : null}</h1>
        <button type="button" className="primary" onClick={() => go('webhooks', 'new')}>
          New webhook
        </button>
      </div>
      <div className="filters">
        <input
          placeholder="Search name or description"
          aria-label="Search"
          value={text}
          onChange={(e) => reset(setText)(e.target.value)}
        />
        <select aria-label="Status" value={status} onChange={(e) => reset(setStatus)(e.target.value)}>
          <option value="">Any status</option>
          {STATUSES.map((s) => (
            <option key={s}>{s}</option>
          ))}
        </select>
        <select aria-label="Type" value={type} onChange={(e) => reset(setType)(e.target.value)}>
          <option value="">Any type</option>
          {WEBHOOK_TYPES.map((t) => (
            <option key={t}>{t}</option>
          ))}
        </select>
        <input
          placeholder="Tag"
          aria-label="Tag"
          value={tag}
          onChange={(e) => reset(setTag)(e.target.value)}
        />
        <input
          placeholder="Domain"
          aria-label="Domain"
          value={domain}
          onChange={(e) => reset(setDomain)(e.target.value)}
        />
        <label className="check">
          <input
            type="checkbox"
            checked={includeDeleted}
            onChange={(e) => reset(setIncludeDeleted)(e.target.checked)}
          />
          deleted too
        </label>
      </div>
      <ErrorNote error={res.error} />
      <table className="list" data-testid="webhooks">
        <thead>
          <tr>
            <th>Name</th>
            <th>Status</th>
            <th title="Over the last hour">Success</th>
            <th title="95th percentile over the last hour">p95</th>
            <th>Type</th>
            <th>Owner</th>
            <th>Tags</th>
            <th>Domain</th>
          </tr>
        </thead>
        <tbody>
          {page?.edges.map(({ node: w }) => (
            <tr key={w.id} data-testid="webhook-row" className={w.deleted ? 'deleted' : ''}>
              <td>
                <a href={href('webhooks', w.id)}>{w.displayName || w.name}</a>
                <div className="sub">{w.config.endpoint}</div>
              </td>
              <td>
                <Badge value={w.deleted ? 'DELETED' : w.enabled ? w.status : 'DISABLED'} />
              </td>
              <td title={`${w.health.attempts} attempts in the last hour`}>
                {percent(w.health.successRate)}
              </td>
              <td>{ms(w.health.p95DurationMs)}</td>
              <td>{w.webhookType}</td>
              <td>{w.owner ? `${w.owner.name}` : '–'}</td>
              <td>{w.tags.map((t) => t.tagFQN).join(', ')}</td>
              <td>{w.domain ?? '–'}</td>
            </tr>
          ))}
        </tbody>
      </table>
      {page && page.edges.length === 0 && <p className="empty">No webhook matches.</p>}
      <div className="pager">
        {after.length > 0 && (
          <button type="button" onClick={() => setAfter(after.slice(0, -1))}>
            Previous
          </button>
        )}
        {page?.pageInfo.hasNextPage && page.pageInfo.endCursor && (
          <button type="button" onClick={() => setAfter([...after, page.pageInfo.endCursor!])}>
            Next
          </button>
        )}
      </div>
    </div>
  );
}
