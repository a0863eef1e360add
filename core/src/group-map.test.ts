import { describe, expect, it } from 'vitest';
import { type GroupMap, GroupMapSchema, membershipsFromGroups } from './group-map.ts';

const map: GroupMap = GroupMapSchema.parse({
  'drydock-admins': { team: 'platform', role: 'admin' },
  'platform-oncall': { team: 'platform', role: 'operator' },
  'platform-devs': { team: 'platform', role: 'maintainer' },
  'payments-readers': { team: 'payments', role: 'viewer' },
  'release-managers': [
    { team: 'payments', role: 'operator' },
    { team: 'search', role: 'operator' },
  ],
});

describe('membershipsFromGroups', () => {
  it('gives each mapped group its team and role, sorted by team', () => {
    expect(membershipsFromGroups(['payments-readers', 'platform-oncall'], map)).toEqual([
      { team: 'payments', role: 'viewer', groups: ['payments-readers'] },
      { team: 'platform', role: 'operator', groups: ['platform-oncall'] },
    ]);
  });

  it('keeps the strongest role when several groups open one team', () => {
    expect(membershipsFromGroups(['platform-oncall', 'drydock-admins', 'platform-devs'], map)).toEqual([
      { team: 'platform', role: 'admin', groups: ['drydock-admins'] },
    ]);
    expect(membershipsFromGroups(['release-managers', 'payments-readers'], map)).toEqual([
      { team: 'payments', role: 'operator', groups: ['release-managers'] },
      { team: 'search', role: 'operator', groups: ['release-managers'] },
    ]);
  });

  it('lists every group that gave the winning role', () => {
    const twoWays: GroupMap = { a: [{ team: 't', role: 'operator' }], b: [{ team: 't', role: 'operator' }] };
    expect(membershipsFromGroups(['a', 'b', 'a'], twoWays)).toEqual([{ team: 't', role: 'operator', groups: ['a', 'b'] }]);
  });

  it('gives nothing for unmapped groups, for groups that differ only in case, or for inherited object keys', () => {
    expect(membershipsFromGroups(['everyone', 'DRYDOCK-ADMINS', 'constructor', 'toString', '__proto__'], map)).toEqual([]);
    expect(membershipsFromGroups([], map)).toEqual([]);
  });
});

describe('GroupMapSchema', () => {
  it('takes one grant or a list of grants per group', () => {
    expect(GroupMapSchema.parse({ g: { team: 'platform', role: 'admin' }, h: [{ team: 'a', role: 'viewer' }] })).toEqual({
      g: [{ team: 'platform', role: 'admin' }],
      h: [{ team: 'a', role: 'viewer' }],
    });
  });

  it('says which group has a role that does not exist, or no team', () => {
    const unknownRole = GroupMapSchema.safeParse({ 'drydock-admins': { team: 'platform', role: 'owner' } });
    expect(unknownRole.success).toBe(false);
    expect(unknownRole.error?.issues[0]?.path).toEqual(['drydock-admins', 0, 'role']);
    expect(unknownRole.error?.issues[0]?.message).toMatch(/viewer.*operator.*maintainer.*admin/);

    const noTeam = GroupMapSchema.safeParse({ ops: { team: ' ', role: 'viewer' } });
    expect(noTeam.error?.issues[0]).toMatchObject({ path: ['ops', 0, 'team'], message: 'name the team' });

    expect(GroupMapSchema.safeParse({ ops: [] }).error?.issues[0]?.message).toBe('give at least one { team, role }');
    expect(GroupMapSchema.safeParse({ ops: { team: 't', role: 'viewer', teams: ['x'] } }).success).toBe(false);
  });
});
