import { useState } from 'react';
import { useMutation, useQuery } from 'urql';
import { graphql } from '../graphql';
import { go, href } from '../route';
import { Badge, ErrorNote, ms, percent, Section, when } from '../ui';
import { Deliveries } from './Deliveries';
import { Preview } from './Preview';

const WebhookQuery = graphql(`
  query Webhook($id: ID!) {
    webhook(id: $id) {
      id
      name
      displayName
      description
      webhookType
      status
      enabled
      deleted
      version
      updatedAt
      updatedBy
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
        hasSecret
        timeoutMs
      }
      eventFilters {
        eventTypes
        entities
      }
      failureDetails {
        lastFailedAt
        lastFailedReason
        nextAttempt
      }
      health {
        attempts
        failures
        successRate
        p95DurationMs
      }
      versions {
        version
        updatedAt
        updatedBy
        changeDescription {
          previousVersion
          fieldsAdded {
            name
            newValue
          }
          fieldsUpdated {
            name
            oldValue
            newValue
          }
          fieldsDeleted {
            name
            oldValue
          }
        }
      }
    }
  }
`);

const SetEnabled = graphql(`
  mutation SetEnabled($id: ID!, $enabled: Boolean!) {
    updateWebhook(id: $id, input: { enabled: $enabled }) {
      id
      enabled
      status
      version
    }
  }
`);
const Rotate = graphql(`
  mutation Rotate($id: ID!) {
    rotateWebhookSecret(id: $id)
  }
`);
const Test = graphql(`
  mutation Test($id: ID!) {
    testWebhook(id: $id) {
      id
      status
      attempts {
        responseStatus
        errorKind
        errorMessage
        durationMs
      }
    }
  }
`);
const Delete = graphql(`
  mutation Delete($id: ID!) {
    deleteWebhook(id: $id)
  }
`);
const Restore = graphql(`
  mutation Restore($id: ID!) {
    restoreWebhook(id: $id) {
      id
      deleted
      version
    }
  }
`);

const show = (v: unknown) =>
  v === undefined || v === null ? '∅' : typeof v === 'string' ? v : JSON.stringify(v);

export function WebhookPage({ id }: { id: string }) {
  const [res, refetch] = useQuery({ query: WebhookQuery, variables: { id } });
  const [enabled, setEnabled] = useMutation(SetEnabled);
  const [rotated, rotate] = useMutation(Rotate);
  const [tested, test] = useMutation(Test);
  const [deleted, del] = useMutation(Delete);
  const [restored, restore] = useMutation(Restore);
  const [secretShown, setSecretShown] = useState(false);
  const w = res.data?.webhook;
  if (res.error) return <ErrorNote error={res.error} />;
  if (!w) return <p>{res.fetching ? 'Loading…' : 'No such webhook.'}</p>;
  const after = () => refetch({ requestPolicy: 'network-only' });
  const attempt = tested.data?.testWebhook.attempts[0];
  return (
    <div>
      <div className="toolbar">
        <h1 data-testid="webhook-title">
          {w.displayName || w.name}{' '}
          <Badge value={w.deleted ? 'DELETED' : w.enabled ? w.status : 'DISABLED'} />
        </h1>
        <div className="actions">
          {!w.deleted && (
            <>
              <button type="button" onClick={() => go('webhooks', w.id, 'edit')}>
                Edit
              </button>
              <button type="button" onClick={() => setEnabled({ id: w.id, enabled: !w.enabled }).then(after)}>
                {w.enabled ? 'Disable' : 'Enable'}
              </button>
              <button type="button" onClick={() => test({ id: w.id }).then(after)} disabled={tested.fetching}>
                {tested.fetching ? 'Testing…' : 'Test'}
              </button>
              <button
                type="button"
                onClick={() => {
                  if (confirm('Rotate the signing secret? The old one keeps signing for 24 hours.'))
                    void rotate({ id: w.id }).then(() => (setSecretShown(true), after()));
                }}
              >
                Rotate secret
              </button>
              <button
                type="button"
                className="danger"
                onClick={() => {
                  if (confirm(`Delete ${w.name}? It can be restored.`)) void del({ id: w.id }).then(after);
                }}
              >
                Delete
              </button>
            </>
          )}
          {w.deleted && (
            <button type="button" onClick={() => restore({ id: w.id }).then(after)}>
              Restore
            </button>
          )}
        </div>
      </div>
      {[enabled.error, rotated.error, tested.error, deleted.error, restored.error].map((e, i) => (
        <ErrorNote key={i} error={e} />
      ))}
      {attempt && (
        <p className="note" data-testid="test-result">
          Test: {tested.data?.testWebhook.status}
          {attempt.responseStatus ? `, HTTP ${attempt.responseStatus}` : ''}
          {attempt.errorKind ? `, ${attempt.errorKind}: ${attempt.errorMessage ?? ''}` : ''} in{' '}
          {attempt.durationMs} ms
        </p>
      )}
      {secretShown && rotated.data && (
        <p className="note secret">
          New signing secret, shown once: <code>{rotated.data.rotateWebhookSecret}</code>{' '}
          <button type="button" onClick={() => setSecretShown(false)}>
            Hide
          </button>
        </p>
      )}
      <div className="grid">
        <Section title="Settings">
          <dl>
            <dt>Name</dt>
            <dd>{w.name}</dd>
            <dt>Type</dt>
            <dd>{w.webhookType}</dd>
            <dt>Endpoint</dt>
            <dd>{w.config.endpoint}</dd>
            <dt>Signing secret</dt>
            <dd>{w.config.hasSecret ? 'set' : 'none'}</dd>
            <dt>Filters</dt>
            <dd>
              {w.eventFilters.length
                ? w.eventFilters.map((f, i) => (
                    <div key={i}>
                      {(f.eventTypes ?? ['*']).join(', ')} on {(f.entities ?? ['*']).join(', ')}
                    </div>
                  ))
                : 'every event'}
            </dd>
            <dt>Owner</dt>
            <dd>{w.owner ? `${w.owner.name} (${w.owner.type})` : '–'}</dd>
            <dt>Tags</dt>
            <dd>{w.tags.map((t) => t.tagFQN).join(', ') || '–'}</dd>
            <dt>Domain</dt>
            <dd>{w.domain ?? '–'}</dd>
            <dt>Version</dt>
            <dd>
              {w.version.toFixed(1)} by {w.updatedBy}, {when(w.updatedAt)}
            </dd>
          </dl>
        </Section>
        <Section title="Health, last hour">
          <dl>
            <dt>Success rate</dt>
            <dd data-testid="health-rate">{percent(w.health.successRate)}</dd>
            <dt>p95 duration</dt>
            <dd>{ms(w.health.p95DurationMs)}</dd>
            <dt>Attempts</dt>
            <dd>
              {w.health.attempts} ({w.health.failures} failed)
            </dd>
            {w.failureDetails && (
              <>
                <dt>Last failure</dt>
                <dd>
                  {when(w.failureDetails.lastFailedAt)}: {w.failureDetails.lastFailedReason}
                </dd>
                <dt>Next attempt</dt>
                <dd>{when(w.failureDetails.nextAttempt)}</dd>
              </>
            )}
          </dl>
        </Section>
      </div>
      <Deliveries webhookId={w.id} />
      <Preview key={w.version} webhookId={w.id} />
      <Section title="Version history">
        <ol className="versions">
          {w.versions.map((v) => {
            const c = v.changeDescription;
            return (
              <li key={v.version}>
                <strong>{v.version.toFixed(1)}</strong> by {v.updatedBy}, {when(v.updatedAt)}
                {c && (
                  <ul className="diff">
                    {c.fieldsAdded.map((f) => (
                      <li key={`a${f.name}`} className="added">
                        + {f.name}: {show(f.newValue)}
                      </li>
                    ))}
                    {c.fieldsUpdated.map((f) => (
                      <li key={`u${f.name}`} className="updated">
                        ~ {f.name}: {show(f.oldValue)} → {show(f.newValue)}
                      </li>
                    ))}
                    {c.fieldsDeleted.map((f) => (
                      <li key={`d${f.name}`} className="removed">
                        − {f.name}: {show(f.oldValue)}
                      </li>
                    ))}
                  </ul>
                )}
                {!c && <span className="sub"> created</span>}
              </li>
            );
          })}
        </ol>
      </Section>
      <p>
        <a href={href('webhooks')}>← All webhooks</a>
      </p>
    </div>
  );
}
