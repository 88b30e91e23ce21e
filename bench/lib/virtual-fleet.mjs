// The virtual-clock bench fleet (bench/virtual.mjs, virtual-ab.mjs, cli-startup.mjs): NB-IoT
// trackers on batteries in 100 cells, 15-minute reports, each device with its own outages (95% up).
// Keepalive off: the SimPy peer (bench/virtual_simpy.py) has no PINGREQs, and with the 60 s default
// a session silent between its 15-minute reports pings ~14 times per report (~2,950 events per
// device-day instead of ~221), which would compare a different model, mostly of cheap events.
// `idle`: devices that only power on, provision and connect (memory per idle device).
export function virtualFleetYaml({ devices, duration, name = 'bench-virtual', linkModel = false, idle = false }) {
  const behaviour = idle
    ? 'behaviour: {}'
    : `behaviour:
  telemetry: { every: 15m, jitter: 10%, size: 200B, qos: 1 }
  keepalive: 0s
  offline: { availability: 95%, downtime: { distribution: lognormal, median: 5m } }`;
  return `name: ${name}
seed: 42
duration: ${duration}
clock: virtual
fleet:
  - { profile: nrf9160-tracker, count: ${devices}, link: nb-iot, cells: 100 }
arrival: { rate: ${idle ? '100000/s' : '1000/s'} }
${behaviour}
options:
  snapshotEvery: 1m
  linkModel: ${linkModel}
`;
}
