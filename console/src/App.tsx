import { useMemo, useState } from 'react';
import { Provider, useQuery } from 'urql';
import { createApiClient } from './client';
import { graphql } from './graphql';
import { href, useRoute } from './route';
import { clearToken, getToken } from './token';
import { Deliveries } from './views/Deliveries';
import { LiveLog } from './views/LiveLog';
import { SignIn } from './views/SignIn';
import { Tokens } from './views/Tokens';
import { WebhookForm } from './views/WebhookForm';
import { WebhookPage } from './views/WebhookPage';
import { Webhooks } from './views/Webhooks';

const MeQuery = graphql(`
  query Me {
    me {
      principal
      role
      tenantId
    }
  }
`);

export function App() {
  const [token, setTokenState] = useState(getToken);
  // A new client per token: nothing cached for one token is shown to the next.
  const client = useMemo(() => createApiClient(), [token]);
  if (!token) return <SignIn onSignedIn={() => setTokenState(getToken())} />;
  const signOut = () => {
    clearToken();
    setTokenState(null);
  };
  return (
    <Provider value={client}>
      <Shell onSignOut={signOut} />
    </Provider>
  );
}

function Shell({ onSignOut }: { onSignOut: () => void }) {
  const [me] = useQuery({ query: MeQuery, requestPolicy: 'cache-first' });
  const route = useRoute();
  const role = me.data?.me.role;
  if (me.error?.response?.status === 401) {
    return (
      <SignIn onSignedIn={() => window.location.reload()} message="That token is not valid (any more)." />
    );
  }
  const [section = 'webhooks', id, sub] = route;
  let view;
  if (section === 'webhooks' && id === 'new') view = <WebhookForm />;
  else if (section === 'webhooks' && id && sub === 'edit') view = <WebhookForm id={id} />;
  else if (section === 'webhooks' && id) view = <WebhookPage id={id} />;
  else if (section === 'deliveries') view = <Deliveries />;
  else if (section === 'live') view = <LiveLog />;
  else if (section === 'tokens' && role === 'ADMIN') view = <Tokens />;
  else view = <Webhooks />;
  return (
    <div className="shell">
      <nav>
        <strong className="brand">Hookline</strong>
        <a href={href('webhooks')} className={section === 'webhooks' ? 'active' : ''}>
          Webhooks
        </a>
        <a href={href('deliveries')} className={section === 'deliveries' ? 'active' : ''}>
          Deliveries
        </a>
        <a href={href('live')} className={section === 'live' ? 'active' : ''}>
          Live log
        </a>
        {role === 'ADMIN' && (
          <a href={href('tokens')} className={section === 'tokens' ? 'active' : ''}>
            Tokens &amp; portal links
          </a>
        )}
        <a href="/graphql" target="_blank" rel="noreferrer">
          GraphiQL
        </a>
        <span className="who" data-testid="who">
          {me.data ? `${me.data.me.principal} · ${me.data.me.role} · ${me.data.me.tenantId}` : ''}
        </span>
        <button type="button" onClick={onSignOut}>
          Sign out
        </button>
      </nav>
      <main>{view}</main>
    </div>
  );
}
