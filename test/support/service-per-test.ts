import { afterEach } from 'vitest';
import { startService, type Service, type ServiceOptions } from './service.js';

export interface ServicePerTest {
  /** Starts this test's service, stopped after the test. */
  start(options?: ServiceOptions): Promise<Service>;
  /** The service the running test started. */
  readonly current: Service;
}

/** For files whose tests each need a service of their own settings, so every test starts from zero. */
export function servicePerTest(): ServicePerTest {
  let current: Service | undefined;
  afterEach(async () => {
    await current?.stop();
    current = undefined;
  });
  return {
    async start(options) {
      current = await startService(options);
      return current;
    },
    get current() {
      if (!current) throw new Error('no service started in this test');
      return current;
    },
  };
}
