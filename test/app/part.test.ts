import t from 'tap';
import { startParts, stopParts, type Part } from '../../src/app/part.js';

/** Parts that write what happens to them into `log`; `fail` names the one whose start or stop throws. */
function parts(log: string[], names: string[], fail?: { name: string; at: 'start' | 'stop' }): Part[] {
  return names.map((name) => ({
    async start() {
      await Promise.resolve();
      if (fail?.name === name && fail.at === 'start') throw new Error(`${name} cannot start`);
      log.push(`start ${name}`);
    },
    stop() {
      if (fail?.name === name && fail.at === 'stop') throw new Error(`${name} cannot stop`);
      log.push(`stop ${name}`);
    },
  }));
}

t.test('parts start in order and stop in reverse', async (t) => {
  const log: string[] = [];
  const list = parts(log, ['config', 'health', 'listeners']);
  await startParts(list);
  await stopParts(list);
  t.same(log, ['start config', 'start health', 'start listeners', 'stop listeners', 'stop health', 'stop config']);
});

t.test('a part that fails to start stops those before it, and only those', async (t) => {
  const log: string[] = [];
  await t.rejects(startParts(parts(log, ['config', 'health', 'listeners'], { name: 'listeners', at: 'start' })), /listeners cannot start/);
  t.same(log, ['start config', 'start health', 'stop health', 'stop config']);
});

t.test('a part that fails to stop does not keep the others running', async (t) => {
  const log: string[] = [];
  const list = parts(log, ['config', 'health', 'listeners'], { name: 'health', at: 'stop' });
  await startParts(list);
  await t.rejects(stopParts(list), /health cannot stop/);
  t.same(log.slice(3), ['stop listeners', 'stop config']);
});

t.test('parts without a start or stop are passed over', async (t) => {
  const log: string[] = [];
  const list: Part[] = [{}, ...parts(log, ['a']), { serve: () => undefined }];
  await startParts(list);
  await stopParts(list);
  t.same(log, ['start a', 'stop a']);
});
