// @ts-check
/**
 * What each state the API answers with means, and what to try: the words a person fixing
 * port forwarding needs, which the bare state does not give.
 * @type {Record<import('./api-client.js').PortState, { meaning: string, advice: string }>}
 */
export const STATE_WORDS = {
  open: {
    meaning: 'Reachable: a program accepted the connection.',
    advice: 'Nothing to do: the internet can reach these ports.',
  },
  closed: {
    meaning: 'Refused: the connection reached your address, but nothing listens on this port.',
    advice:
      'Start the program that should listen here (for a Golem provider: golemsp run) and make it listen on all ' +
      'interfaces, not only on 127.0.0.1. If the router forwards the port, check that it forwards to this ' +
      'machine’s current local address; a router without a forwarding rule may refuse the port itself.',
  },
  filtered: {
    meaning: 'No answer: a firewall or the router drops connections to this port.',
    advice:
      'Forward the port (TCP) on the router to this machine, and allow it in the machine’s firewall (for example ' +
      'sudo ufw allow 7466/tcp). If your internet provider puts you behind carrier-grade NAT, no forwarding can ' +
      'work: ask it for a public IPv4 address, or use IPv6.',
  },
  error: {
    meaning: 'The checker could not try this port.',
    advice: 'Try again in a while. If it stays so, the fault is likely on the checker’s side, not yours.',
  },
};
