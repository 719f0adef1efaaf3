import { type FormEvent, useEffect, useMemo, useState } from 'react';
import { useMutation, useQuery } from 'urql';
import { graphql } from '../graphql';
import { go, href } from '../route';
import { ErrorNote } from '../ui';
import { type Draft, Preview } from './Preview';
import { WEBHOOK_TYPES, type WebhookType } from '../webhook-types';

const EditQuery = graphql(`
  query EditWebhook($id: ID!) {
    webhook(id: $id) {
      id
      name
      displayName
      description
      webhookType
      enabled
      version
      domain
      batchSize
      rateLimit
      fifo
      owner {
        name
        type
      }
      tags {
        tagFQN
      }
      eventFilters {
        eventTypes
        entities
      }
      retryPolicy {
        scheduleSeconds
      }
      config {
        endpoint
        hasSecret
        timeoutMs
        template
        headers {
          name
          value
          secret
        }
      }
    }
  }
`);

const Create = graphql(`
  mutation CreateWebhook($input: CreateWebhookInput!) {
    createWebhook(input: $input) {
      id
    }
  }
`);
const Update = graphql(`
  mutation UpdateWebhook($id: ID!, $version: Float!, $input: UpdateWebhookInput!) {
    updateWebhook(id: $id, expectedVersion: $version, input: $input) {
      id
      version
    }
  }
`);

/** Where each platform's incoming-webhook address is found, as the placeholder of the endpoint. */
const ENDPOINTS: Record<WebhookType, string> = {
  GENERIC: 'https://example.com/hooks',
  SLACK: 'https://hooks.slack.com/services/T000/B000/XXXX',
  MSTEAMS: 'https://….logic.azure.com/workflows/…',
  GOOGLECHAT: 'https://chat.googleapis.com/v1/spaces/…/messages?key=…&token=…',
  DISCORD: 'https://discord.com/api/webhooks/…/…',
  DINGTALK: 'https://oapi.dingtalk.com/robot/send?access_token=…',
  FEISHU: 'https://open.feishu.cn/open-apis/bot/v2/hook/…',
  WECOM: 'https://qyapi.weixin.qq.com/cgi-bin/webhook/send?key=…',
  CUSTOM: 'https://example.com/hooks',
};
const SECRET_LABEL: Partial<Record<WebhookType, string>> = {
  DINGTALK: 'Robot signing secret (SEC…)',
  FEISHU: 'Bot signing secret',
};

interface Header {
  name: string;
  value: string;
  secret: boolean;
}
interface Form {
  name: string;
  displayName: string;
  description: string;
  webhookType: WebhookType;
  endpoint: string;
  secretKey: string;
  timeoutMs: string;
  eventTypes: string;
  entities: string;
  ownerName: string;
  ownerType: string;
  tags: string;
  domain: string;
  batchSize: string;
  rateLimit: string;
  fifo: boolean;
  schedule: string;
  template: string;
  headers: Header[];
}

const EMPTY: Form = {
  name: '',
  displayName: '',
  description: '',
  webhookType: 'GENERIC',
  endpoint: '',
  secretKey: '',
  timeoutMs: '10000',
  eventTypes: '',
  entities: '',
  ownerName: '',
  ownerType: 'user',
  tags: '',
  domain: '',
  batchSize: '1',
  rateLimit: '',
  fifo: false,
  schedule: '60, 300, 900, 3600, 14400, 43200',
  template: '',
  headers: [],
};

const list = (text: string) =>
  text
    .split(',')
    .map((s) => s.trim())
    .filter(Boolean);
const intOrNull = (text: string) => (text.trim() ? Number(text) : null);

/** The input both mutations take (the update is a patch: unchanged values change nothing). */
function inputOf(f: Form) {
  const eventTypes = list(f.eventTypes);
  const entities = list(f.entities);
  return {
    name: f.name.trim(),
    displayName: f.displayName.trim() || null,
    description: f.description.trim() || null,
    webhookType: f.webhookType,
    eventFilters:
      eventTypes.length || entities.length
        ? [{ ...(eventTypes.length ? { eventTypes } : {}), ...(entities.length ? { entities } : {}) }]
        : [],
    owner: f.ownerName.trim() ? { name: f.ownerName.trim(), type: f.ownerType } : null,
    tags: list(f.tags),
    domain: f.domain.trim() || null,
    batchSize: Number(f.batchSize) || 1,
    rateLimit: intOrNull(f.rateLimit),
    fifo: f.fifo,
    retryPolicy: { scheduleSeconds: list(f.schedule).map(Number) },
    config: {
      endpoint: f.endpoint.trim(),
      timeoutMs: Number(f.timeoutMs) || 10000,
      // Write-only: sent only when typed, so an edit keeps the stored secret.
      ...(f.secretKey ? { secretKey: f.secretKey } : {}),
      ...(f.webhookType === 'CUSTOM' && f.template.trim()
        ? { template: JSON.parse(f.template) as unknown }
        : {}),
      // A secret header left empty keeps its stored value.
      headers: f.headers
        .filter((h) => h.name.trim())
        .map((h) => ({
          name: h.name.trim(),
          secret: h.secret,
          ...(h.value || !h.secret ? { value: h.value } : {}),
        })),
    },
  };
}

export function WebhookForm({ id }: { id?: string }) {
  const [existing] = useQuery({
    query: EditQuery,
    variables: { id: id ?? '' },
    pause: !id,
    requestPolicy: 'network-only',
  });
  const [form, setForm] = useState<Form>(EMPTY);
  const [created, create] = useMutation(Create);
  const [updated, update] = useMutation(Update);
  const [localError, setLocalError] = useState('');
  const w = existing.data?.webhook;
  useEffect(() => {
    if (!w) return;
    setForm({
      name: w.name,
      displayName: w.displayName ?? '',
      description: w.description ?? '',
      webhookType: w.webhookType,
      endpoint: w.config.endpoint,
      secretKey: '',
      timeoutMs: String(w.config.timeoutMs),
      eventTypes: (w.eventFilters[0]?.eventTypes ?? []).join(', '),
      entities: (w.eventFilters[0]?.entities ?? []).join(', '),
      ownerName: w.owner?.name ?? '',
      ownerType: w.owner?.type ?? 'user',
      tags: w.tags.map((t) => t.tagFQN).join(', '),
      domain: w.domain ?? '',
      batchSize: String(w.batchSize),
      rateLimit: w.rateLimit == null ? '' : String(w.rateLimit),
      fifo: w.fifo,
      schedule: w.retryPolicy.scheduleSeconds.join(', '),
      template: w.config.template == null ? '' : JSON.stringify(w.config.template, null, 2),
      headers: w.config.headers.map((h) => ({ name: h.name, value: h.value ?? '', secret: h.secret })),
    });
  }, [w]);
  const set =
    <K extends keyof Form>(key: K) =>
    (value: Form[K]) =>
      setForm((f) => ({ ...f, [key]: value }));
  const text = (key: keyof Form, label: string, props: Record<string, unknown> = {}) => (
    <label>
      {label}
      <input value={form[key] as string} onChange={(e) => set(key)(e.target.value as never)} {...props} />
    </label>
  );

  async function submit(e: FormEvent) {
    e.preventDefault();
    setLocalError('');
    let input;
    try {
      input = inputOf(form);
    } catch {
      setLocalError('The template is not JSON.');
      return;
    }
    if (!id) {
      const res = await create({ input });
      if (res.data) go('webhooks', res.data.createWebhook.id);
    } else if (w) {
      // The owner is sent only when it changed: a USER may not even restate it as someone else.
      const { owner, ...rest } = input;
      const sameOwner =
        JSON.stringify(owner) === JSON.stringify(w.owner ? { name: w.owner.name, type: w.owner.type } : null);
      const res = await update({ id, version: w.version, input: sameOwner ? rest : { ...rest, owner } });
      if (res.data) go('webhooks', id);
    }
  }

  // The form as createWebhook would take it, once it has a name and an endpoint to check.
  const draft = useMemo(() => {
    if (id || !form.name.trim() || !form.endpoint.trim()) return null;
    try {
      return inputOf(form) as Draft;
    } catch {
      return null; // a template that is not JSON yet
    }
  }, [id, form]);
  const secretLabel = SECRET_LABEL[form.webhookType] ?? 'Signing secret (whsec_… or any text; write-only)';
  return (
    <div>
      <h1>{id ? `Edit ${w?.name ?? ''}` : 'New webhook'}</h1>
      <form className="card form" onSubmit={submit} data-testid="webhook-form">
        <div className="cols">
          {text('name', 'Name', { required: true, pattern: '[A-Za-z0-9_.\\-]{1,128}' })}
          {text('displayName', 'Display name')}
          <label>
            Type
            <select
              value={form.webhookType}
              onChange={(e) => set('webhookType')(e.target.value as WebhookType)}
            >
              {WEBHOOK_TYPES.map((t) => (
                <option key={t}>{t}</option>
              ))}
            </select>
          </label>
        </div>
        {text('endpoint', 'Endpoint URL', {
          required: true,
          type: 'url',
          placeholder: ENDPOINTS[form.webhookType],
        })}
        {text('description', 'Description')}
        <div className="cols">
          <label>
            {secretLabel}
            <input
              type="password"
              autoComplete="off"
              value={form.secretKey}
              placeholder={w?.config.hasSecret ? 'set; type to replace' : ''}
              onChange={(e) => set('secretKey')(e.target.value)}
            />
          </label>
          {text('timeoutMs', 'Timeout (ms)', { type: 'number', min: 100, max: 60000 })}
        </div>
        <div className="cols">
          {text('eventTypes', 'Event types (comma-separated; empty: all)', {
            placeholder: 'entityCreated, entityUpdated',
          })}
          {text('entities', 'Entity types', { placeholder: 'table, dashboard' })}
        </div>
        <div className="cols">
          {text('ownerName', 'Owner')}
          <label>
            Owner type
            <select value={form.ownerType} onChange={(e) => set('ownerType')(e.target.value)}>
              <option>user</option>
              <option>team</option>
            </select>
          </label>
          {text('tags', 'Tags (comma-separated)')}
          {text('domain', 'Domain')}
        </div>
        <div className="cols">
          {text('batchSize', 'Batch size', { type: 'number', min: 1, max: 1000 })}
          {text('rateLimit', 'Rate limit (requests/s)', { type: 'number', min: 1, max: 10000 })}
          {text('schedule', 'Retry schedule (seconds)')}
          <label className="check">
            <input type="checkbox" checked={form.fifo} onChange={(e) => set('fifo')(e.target.checked)} /> In
            order (FIFO)
          </label>
        </div>
        {(form.webhookType === 'GENERIC' || form.webhookType === 'CUSTOM') && (
          <fieldset>
            <legend>Headers</legend>
            {form.headers.map((h, i) => (
              <div className="cols" key={i}>
                <input
                  aria-label="Header name"
                  value={h.name}
                  onChange={(e) =>
                    set('headers')(form.headers.map((x, j) => (j === i ? { ...x, name: e.target.value } : x)))
                  }
                />
                <input
                  aria-label="Header value"
                  type={h.secret ? 'password' : 'text'}
                  placeholder={h.secret ? 'stored; type to replace' : ''}
                  value={h.value}
                  onChange={(e) =>
                    set('headers')(
                      form.headers.map((x, j) => (j === i ? { ...x, value: e.target.value } : x)),
                    )
                  }
                />
                <label className="check">
                  <input
                    type="checkbox"
                    checked={h.secret}
                    onChange={(e) =>
                      set('headers')(
                        form.headers.map((x, j) => (j === i ? { ...x, secret: e.target.checked } : x)),
                      )
                    }
                  />
                  secret
                </label>
                <button type="button" onClick={() => set('headers')(form.headers.filter((_, j) => j !== i))}>
                  Remove
                </button>
              </div>
            ))}
            <button
              type="button"
              onClick={() => set('headers')([...form.headers, { name: '', value: '', secret: false }])}
            >
              Add header
            </button>
          </fieldset>
        )}
        {form.webhookType === 'CUSTOM' && (
          <label>
            Template (JSON with {'{{path}}'} placeholders)
            <textarea rows={6} value={form.template} onChange={(e) => set('template')(e.target.value)} />
          </label>
        )}
        {localError && <p className="error">{localError}</p>}
        <ErrorNote error={created.error ?? updated.error} />
        <div className="actions">
          <button type="submit" className="primary" disabled={created.fetching || updated.fetching}>
            {id ? 'Save' : 'Create'}
          </button>
          <a href={id ? href('webhooks', id) : href('webhooks')}>Cancel</a>
        </div>
      </form>
      {id && w && <Preview key={w.version} webhookId={id} />}
      {!id && <Preview draft={draft} />}
    </div>
  );
}
