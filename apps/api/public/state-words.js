// @ts-check
/**
 * What each state the API answers with means, and what to try: the words a person fixing
 * port forwarding needs, which the bare state does not give. `short` goes in every row of
 * the table; the sentence and the advice once per state found, however many ports share it.
 * @type {Record<import('./api-client.js').PortState, { short: string, meaning: string, advice: string }>}
 */
export const STATE_WORDS = {
  open: {
    short: 'Reachable',
    meaning: 'A program accepted the connection.',
    advice: 'Nothing to do: the internet can reach these ports.',
  },
  closed: {
    short: 'Refused: nothing listens',
    meaning: 'The connection reached your address, but nothing listens on the port.',
    advice:
      'Start the program that should listen there (for a Golem provider: golemsp run) and make it listen on all ' +
      'interfaces, not only on 127.0.0.1. If the router forwards the port, check that it forwards to this ' +
      'machine’s current local address; a router without a forwarding rule may refuse the port itself.',
  },
  filtered: {
    short: 'No answer: dropped on the way',
    meaning: 'A firewall or the router drops connections to the port.',
    advice:
      'Forward the port (TCP) on the router to this machine, and allow it in the machine’s firewall (for example ' +
      'sudo ufw allow 7466/tcp). If your internet provider puts you behind carrier-grade NAT, no forwarding can ' +
      'work: ask it for a public IPv4 address, or use IPv6.',
  },
  error: {
    short: 'Not tried',
    meaning: 'The checker could not try the port.',
    advice: 'Try again in a while. If it stays so, the fault is likely on the checker’s side, not yours.',
  },
};
