// Records in package-lock.json the optional platform packages (other OSes and CPUs) that npm left out
// because the registry it used could not serve them; `npm ci` refuses a lock without them. Run it after
// `npm install`: node scripts/record-optional-platform-packages.cjs package-lock.json
const fs = require('fs');
const lockPath = process.argv[2];
const lock = JSON.parse(fs.readFileSync(lockPath, 'utf8'));
const packages = lock.packages;
const platform = (name) => {
  const tail = name.split('/')[1].replace(/^cli-/, '').replace(/^msgpackr-extract-/, '');
  const [os, cpu, libc] = tail.split('-');
  return { os: [os], cpu: [cpu], ...(libc ? { libc: [libc] } : {}) };
};
let added = 0;
for (const [location, entry] of Object.entries(packages)) {
  for (const [dep, version] of Object.entries(entry.optionalDependencies ?? {})) {
    const key = `node_modules/${dep}`;
    if (packages[key] && !(entry.dev && !packages[key].dev && packages[key].optional && !packages[key].integrity)) continue;
    if (!/^@(biomejs\/cli-|msgpackr-extract\/msgpackr-extract-)/.test(dep)) continue;
    const sibling = Object.entries(packages).find(([k]) => k.startsWith(`node_modules/${dep.split('/')[0]}/`) && k !== location)?.[1];
    packages[key] = {
      version,
      // A dev dependency's platform packages are dev too, so `npm ci --omit=dev` leaves them out.
      ...(entry.dev ? { dev: true } : {}),
      ...(sibling?.license ? { license: sibling.license } : {}),
      optional: true,
      ...platform(dep),
      ...(sibling?.engines ? { engines: sibling.engines } : {}),
    };
    added++;
  }
}
lock.packages = Object.fromEntries(Object.entries(packages).sort(([a], [b]) => (a === '' ? -1 : b === '' ? 1 : a.localeCompare(b))));
fs.writeFileSync(lockPath, `${JSON.stringify(lock, null, 2)}\n`);
console.log(`added ${added} entries`);
