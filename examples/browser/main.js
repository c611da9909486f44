// Loads the chosen SDK (both expose the same calls used here), then wires the buttons.
const params = new URLSearchParams(location.search);
const which = params.get('sdk') === 'sentry' ? 'sentry' : 'beacon';
const SDK = await import(which === 'sentry' ? '/sdk/sentry.js' : '/sdk/beacon.js');
const { dsn } = await (await fetch('/config.json')).json();

SDK.init({ dsn, release: 'shop-web@1.0.0', environment: 'development' });
SDK.setUser({ id: 'demo-user' });
SDK.setTag('sdk', which);
document.getElementById('sdk').textContent = which === 'sentry' ? '@sentry/browser' : '@beacon/sdk';

function applyCoupon(code) {
  const coupons = { SAVE10: 10 };
  if (!(code in coupons)) throw new TypeError(`unknown coupon ${code}`);
  return coupons[code];
}
async function loadProfile() {
  const res = await fetch('/missing-profile.json');
  if (!res.ok) throw new Error(`profile request failed with ${res.status}`);
}

document.getElementById('coupon').addEventListener('click', () => applyCoupon('BOGUS'));
document.getElementById('profile').addEventListener('click', () => {
  loadProfile();
});
document.getElementById('report').addEventListener('click', () => {
  SDK.captureMessage('customer opened the help widget', 'info');
});
window.ready = true;
