/**
 * The protocol's topics and its ACL table as tables of cases: what each builder makes and the parser reads back,
 * how filters match, and who may publish and be sent what (the rules the dock's Mosquitto is configured with and
 * the in-memory broker enforces).
 */
import { describe, expect, it } from 'vitest';
import { ACL, aclAllows, DOCK_AGENT_CN } from '../../../src/protocol/acl.ts';
import {
  cameraSubscriptions,
  DOCK_HELLO_TOPIC,
  DOCK_SUBSCRIPTIONS,
  downFilter,
  downTopic,
  parseTopic,
  topicMatches,
  upTopic,
} from '../../../src/protocol/topics.ts';

describe('topics', () => {
  it('are built under the root and parsed back', () => {
    expect(upTopic('cam-1', 'chunk')).toBe('bodycam/cam/cam-1/up/chunk');
    expect(downTopic('cam-1', 'audit-pull')).toBe('bodycam/cam/cam-1/down/audit-pull');
    expect(DOCK_HELLO_TOPIC).toBe('bodycam/dock/hello');
    expect(downFilter('cam-1')).toBe('bodycam/cam/cam-1/down/#');
    expect(cameraSubscriptions('cam-1')).toEqual(['bodycam/cam/cam-1/down/#', 'bodycam/dock/#']);
    expect(DOCK_SUBSCRIPTIONS).toEqual(['bodycam/cam/+/up/#']);
    expect(parseTopic(upTopic('cam-1', 'hello'))).toEqual({ device: 'cam-1', dir: 'up', type: 'hello' });
    expect(parseTopic(downTopic('cam-1', 'ack'))).toEqual({ device: 'cam-1', dir: 'down', type: 'ack' });
  });

  it.each([
    'bodycam/dock/hello',
    'bodycam/cam/cam-1/sideways/hello',
    'bodycam/cam/-x/up/hello',
    'bodycam/cam/cam-1/up/hello/more',
    'bodycam/cam/+/up/hello',
    'other/cam/cam-1/up/hello',
    `bodycam/cam/${'a'.repeat(65)}/up/hello`,
  ])('%s is not a camera topic', (topic) => {
    expect(parseTopic(topic)).toBeNull();
  });

  it.each([
    ['bodycam/#', 'bodycam/cam/a/up/chunk', true],
    ['bodycam/#', 'bodycam', true],
    ['bodycam/cam/+/up/#', 'bodycam/cam/a/up/chunk', true],
    ['bodycam/cam/+/up/#', 'bodycam/cam/a/down/pull', false],
    ['bodycam/cam/+/up/#', 'bodycam/cam/a/b/up/chunk', false],
    ['bodycam/cam/a/down/#', 'bodycam/cam/ab/down/ack', false],
    ['bodycam/dock/hello', 'bodycam/dock/hello', true],
    ['bodycam/dock/hello', 'bodycam/dock/hello/x', false],
    ['bodycam/dock/+', 'bodycam/dock', false],
    ['bodycam/#/up', 'bodycam/x/up', false],
  ] as const)('filter %s on %s: %s', (filter, topic, expected) => {
    expect(topicMatches(filter, topic)).toBe(expected);
  });
});

describe('the ACL table', () => {
  it('holds the agent rule and three per-client rules, each with its direction', () => {
    expect(ACL.map((r) => [r.who, r.access, r.filter])).toEqual([
      ['dock-agent', 'both', 'bodycam/#'],
      ['every-client', 'publish', 'bodycam/cam/%u/up/#'],
      ['every-client', 'subscribe', 'bodycam/cam/%u/down/#'],
      ['every-client', 'subscribe', 'bodycam/dock/#'],
    ]);
    expect(ACL.every((r) => r.direction.length > 0)).toBe(true);
  });

  it.each([
    // The agent: everything under the root, both ways; nothing outside it.
    [DOCK_AGENT_CN, 'publish', 'bodycam/cam/a/down/ack', true],
    [DOCK_AGENT_CN, 'subscribe', 'bodycam/cam/a/up/chunk', true],
    [DOCK_AGENT_CN, 'publish', 'bodycam/cam/a/up/chunk', true],
    [DOCK_AGENT_CN, 'publish', 'elsewhere/x', false],
    // A camera: publishes only its own up topics, is sent only its own down topics and the dock's broadcasts.
    ['cam-a', 'publish', 'bodycam/cam/cam-a/up/chunk', true],
    ['cam-a', 'publish', 'bodycam/cam/cam-b/up/chunk', false],
    ['cam-a', 'publish', 'bodycam/cam/cam-a/down/ack', false],
    ['cam-a', 'publish', 'bodycam/dock/hello', false],
    ['cam-a', 'subscribe', 'bodycam/cam/cam-a/down/ack', true],
    ['cam-a', 'subscribe', 'bodycam/cam/cam-b/down/ack', false],
    ['cam-a', 'subscribe', 'bodycam/cam/cam-b/up/chunk', false],
    ['cam-a', 'subscribe', 'bodycam/cam/cam-a/up/chunk', false],
    ['cam-a', 'subscribe', 'bodycam/dock/hello', true],
    // Updates: a camera is sent only its own offers and bundle pieces (a config bundle names one camera).
    ['cam-a', 'subscribe', 'bodycam/cam/cam-a/down/update-part', true],
    ['cam-a', 'subscribe', 'bodycam/cam/cam-b/down/update-part', false],
    ['cam-a', 'subscribe', 'bodycam/cam/cam-b/down/update', false],
    ['cam-a', 'publish', 'bodycam/cam/cam-b/up/update-pull', false],
    ['cam-a', 'publish', 'bodycam/cam/cam-a/down/update-part', false],
    // A user name that would stretch `%u` over other cameras' topics gets no per-client rights.
    ['+', 'publish', 'bodycam/cam/cam-b/up/chunk', false],
    ['#', 'subscribe', 'bodycam/cam/cam-b/down/ack', false],
    ['a/b', 'publish', 'bodycam/cam/a/b/up/chunk', false],
  ] as const)('%s may %s %s: %s', (user, access, topic, expected) => {
    expect(aclAllows(user, topic, access)).toBe(expected);
  });
});
