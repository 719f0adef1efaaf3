import { type FormEvent, useState } from 'react';
import { useMutation, useQuery } from 'urql';
import { graphql } from '../graphql';
import { Badge, ErrorNote, Section, when } from '../ui';

const TokensQuery = graphql(`
  query Tokens {
    apiTokens {
      id
      name
      role
      tenantId
      createdAt
      revokedAt
      bootstrap
    }
  }
`);
const CreateToken = graphql(`
  mutation CreateToken($name: String!) {
    createApiToken(name: $name, role: USER)
  }
`);
const Revoke = graphql(`
  mutation Revoke($id: ID!) {
    revokeApiToken(id: $id)
  }
`);

/**
 * Portal links (ADMIN): a USER token named after the user, so it sees and manages only the
 * webhooks that user owns, and the console opened with it. Shown once; only its hash is kept.
 */
export function Tokens() {
  const [tokens, refetch] = useQuery({ query: TokensQuery });
  const [created, create] = useMutation(CreateToken);
  const [revoked, revoke] = useMutation(Revoke);
  const [name, setName] = useState('');
  const [link, setLink] = useState('');
  async function submit(e: FormEvent) {
    e.preventDefault();
    const res = await create({ name: name.trim() });
    if (res.data) {
      setLink(`${window.location.origin}/#token=${encodeURIComponent(res.data.createApiToken)}`);
      refetch({ requestPolicy: 'network-only' });
    }
  }
  return (
    <div>
      <h1>Tokens &amp; portal links</h1>
      <Section title="Portal link for a user">
        <form onSubmit={submit} className="filters">
          <input
            aria-label="User name"
            placeholder="user name (the owner name of their webhooks)"
            value={name}
            onChange={(e) => setName(e.target.value)}
            required
          />
          <button type="submit" className="primary">
            Create portal link
          </button>
        </form>
        <ErrorNote error={created.error} />
        {link && (
          <p className="note secret" data-testid="portal-link">
            Shown once; anyone with this link acts as this user until the token is revoked:
            <br />
            <code>{link}</code>{' '}
            <button type="button" onClick={() => void navigator.clipboard?.writeText(link)}>
              Copy
            </button>{' '}
            <button type="button" onClick={() => setLink('')}>
              Hide
            </button>
          </p>
        )}
      </Section>
      <Section title="API tokens">
        <ErrorNote error={tokens.error ?? revoked.error} />
        <table className="list">
          <thead>
            <tr>
              <th>Name</th>
              <th>Role</th>
              <th>Tenant</th>
              <th>Created</th>
              <th>Revoked</th>
              <th />
            </tr>
          </thead>
          <tbody>
            {tokens.data?.apiTokens.map((t) => (
              <tr key={t.id}>
                <td>{t.name}</td>
                <td>
                  <Badge value={t.role} />
                </td>
                <td>{t.tenantId}</td>
                <td>{when(t.createdAt)}</td>
                <td>{when(t.revokedAt)}</td>
                <td>
                  {!t.revokedAt && !t.bootstrap && (
                    <button
                      type="button"
                      className="danger"
                      onClick={() =>
                        confirm(`Revoke ${t.name}?`) &&
                        void revoke({ id: t.id }).then(() => refetch({ requestPolicy: 'network-only' }))
                      }
                    >
                      Revoke
                    </button>
                  )}
                </td>
              </tr>
            ))}
          </tbody>
        </table>
      </Section>
    </div>
  );
}
