import { z } from 'zod';

/** Ids people type and URLs carry: scripts, actions, hosts, repositories. */
export const Slug = z.string().regex(/^[a-z0-9][a-z0-9-]{0,62}$/, { error: 'use lower-case letters, digits and "-"' });

/** Host ids that would collide with the web UI's own pages under /hosts/. */
const RESERVED_HOST_IDS = ['new', 'install'];
export const HostId = Slug.refine((id) => !RESERVED_HOST_IDS.includes(id), { error: `${RESERVED_HOST_IDS.join(' and ')} are reserved; choose another host name` });
