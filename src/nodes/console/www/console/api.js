// The API client the console uses: the base URL from /console/config.json (`?api=` overrides
// it), and the credentials the API asks for, kept for this tab only (sessionStorage).
'use strict';

const Api = {
  base: '',
  authorization: sessionStorage.getItem('srs-authorization') || '',
  waitingForLogin: null,

  async init() {
    const query = new URLSearchParams(location.search);
    const fromQuery = query.get('api');
    if (fromQuery && /^https?:\/\//.test(fromQuery)) {
      this.base = fromQuery.replace(/\/+$/, '');
    } else {
      const config = await (await fetch('/console/config.json')).json();
      this.base = config.api || '';
      this.config = config;
    }
    if (!this.base) throw new Error('this graph has no HttpApi node');
  },

  async request(method, path) {
    for (;;) {
      const headers = this.authorization ? { Authorization: this.authorization } : {};
      const response = await fetch(this.base + path, { method, headers, credentials: 'omit', cache: 'no-store' });
      if (response.status !== 401) {
        if (!response.ok) throw new Error(`${method} ${path}: HTTP ${response.status}`);
        return response.json();
      }
      await this.login();
    }
  },

  get(path) { return this.request('GET', path); },
  remove(path) { return this.request('DELETE', path); },

  // Asks once for credentials however many requests are waiting for them.
  login() {
    if (!this.waitingForLogin) {
      this.waitingForLogin = new Promise((resolve) => {
        const dialog = document.getElementById('login');
        const form = document.getElementById('login-form');
        form.onsubmit = () => {
          const token = document.getElementById('login-token').value;
          const user = document.getElementById('login-user').value;
          const password = document.getElementById('login-password').value;
          this.authorization = token ? 'Bearer ' + token : 'Basic ' + btoa(user + ':' + password);
          sessionStorage.setItem('srs-authorization', this.authorization);
          this.waitingForLogin = null;
          resolve();
        };
        if (!dialog.open) dialog.showModal();
      });
    }
    return this.waitingForLogin;
  },
};
