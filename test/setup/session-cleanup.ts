import { afterAll } from 'vitest';
import { session } from '../../src/session/session.js';

/** After each test file: remove whatever the file's backends created and a failed assertion left running. */
afterAll(async () => {
  const errors = await session().close();
  if (errors.length > 0) throw new Error(`session cleanup failed: ${errors.join('; ')}`);
});
