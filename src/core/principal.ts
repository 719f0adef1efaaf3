export const roles = ['ADMIN', 'OPS', 'USER'] as const;
export type Role = (typeof roles)[number];

/** Who is calling: resolved once per request from its bearer token. */
export interface Principal {
  /** The token's id, or `env` for the token of HOOKLINE_ADMIN_TOKEN. */
  tokenId: string;
  name: string;
  role: Role;
  tenantId: string;
  /** The generated bootstrap token (like HOOKLINE_ADMIN_TOKEN, it may act across tenants). */
  bootstrap?: boolean;
}

export const DEFAULT_TENANT = 'default';
