import type { ReactNode } from 'react';

export const percent = (rate: number | null | undefined) =>
  rate == null ? '–' : `${(rate * 100).toFixed(rate === 1 ? 0 : 1)}%`;
export const ms = (value: number | null | undefined) => (value == null ? '–' : `${value} ms`);
export const when = (iso: string | null | undefined) => (iso ? new Date(iso).toLocaleString() : '–');

export function Badge({ value }: { value: string }) {
  return <span className={`badge badge-${value.toLowerCase()}`}>{value}</span>;
}

/** An error of the API as the user should read it: its message, and the field it names. */
export function ErrorNote({
  error,
}: {
  error:
    | {
        message: string;
        graphQLErrors?: readonly { message: string; extensions?: Record<string, unknown> }[];
      }
    | undefined
    | null;
}) {
  if (!error) return null;
  const first = error.graphQLErrors?.[0];
  const field = first?.extensions?.field;
  const text = first ? `${first.message}${field ? ` (${String(field)})` : ''}` : error.message;
  return (
    <p className="error" role="alert">
      {text}
    </p>
  );
}

export function Section({
  title,
  children,
  actions,
}: {
  title: string;
  children: ReactNode;
  actions?: ReactNode;
}) {
  return (
    <section className="card">
      <header>
        <h2>{title}</h2>
        <div className="actions">{actions}</div>
      </header>
      {children}
    </section>
  );
}

/** JSON shown as text: what the API returned, secrets already masked by it. */
export function Json({ value }: { value: unknown }) {
  return <pre className="json">{typeof value === 'string' ? value : JSON.stringify(value, null, 2)}</pre>;
}
