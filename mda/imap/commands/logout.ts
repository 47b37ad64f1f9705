/*
 * LOGOUT (RFC 3501 §6.1.3): `* BYE Logging out`, then the tagged OK; the connection closes after.
 */
import { ANY_STATE, OK, type CommandSpec } from '../command.js';

export const logoutCommand: CommandSpec = {
  name: 'LOGOUT',
  states: ANY_STATE,
  args: { required: [] },
  sync: 'full',
  async run({ session }) {
    session.untagged('BYE Logging out');
    await session.unselect();
    session.state = 'logout';
    return OK('Logout completed.');
  },
};
