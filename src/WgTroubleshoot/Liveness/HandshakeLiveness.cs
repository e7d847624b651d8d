using System;
using System.Collections.Generic;
using System.Linq;
using System.Threading;
using WgTroubleshoot.Native;
using WgTroubleshoot.State;

namespace WgTroubleshoot.Liveness
{
    /// <summary>
    /// The liveness proof of the diagnosis applied to Test-WgHandshake's verdicts: a Healthy peer whose two samples
    /// do not already show traffic both ways gets one probe into the tunnel (<see cref="TunnelProbe"/>), and OneWay
    /// is then true only when the probe went out and nothing came back (<see cref="ProbeVerdict.Apply"/>). A lone
    /// keepalive going out unanswered is never one-way.
    /// </summary>
    public sealed class HandshakeLiveness
    {
        private readonly INativeRunner _runner;
        private readonly Func<string, IDictionary<string, PeerCounters>> _readCounters;
        private readonly Action<string> _verbose;

        public HandshakeLiveness(INativeRunner runner, Func<string, IDictionary<string, PeerCounters>> readCounters = null, Action<string> verbose = null)
        {
            _runner = runner;
            _verbose = verbose ?? (_ => { });
            _readCounters = readCounters ?? ReadWith(new WgStateReader(runner));
        }

        /// <summary>Replaces how a probe is sent (tests); null: one ping bound to the interface.</summary>
        public Func<string, ProbeResult, IDisposable> Sender { get; set; }

        /// <summary>How long a probe is watched (Keepalive-Timeout plus slack by default).</summary>
        public TimeSpan Wait { get; set; } = TunnelProbe.DefaultWait;

        /// <summary>Called once per interface that is probed, before the probe (progress).</summary>
        public Action<string, int> OnProbe { get; set; }

        /// <summary>The counters of one interface, keyed by peer public key, from `wg show IF dump`.</summary>
        public static Func<string, IDictionary<string, PeerCounters>> ReadWith(WgStateReader reader) => name =>
        {
            var d = reader.Read(new[] { name }, _ => { });
            if (d.Count != 1) return null;
            var m = new Dictionary<string, PeerCounters>(StringComparer.Ordinal);
            foreach (var p in d[0].Peers) if (p.PublicKey != null && !m.ContainsKey(p.PublicKey)) m.Add(p.PublicKey, new PeerCounters(p.RxBytes, p.TxBytes, p.Endpoint));
            return m;
        };

        /// <summary>
        /// Probes, per interface, the peers whose verdict needs it and applies the answers to the verdicts.
        /// <paramref name="devices"/> are the devices of the second sample (their addresses filled in);
        /// <paramref name="sampled"/> is false when only one sample was taken (then nothing is probed and no
        /// verdict is one-way: a single sample shows no traffic). Returns every probe result.
        /// </summary>
        public List<ProbeResult> Apply(IList<WgDevice> devices, IList<HandshakeResult> results, bool sampled, CancellationToken cancel = default(CancellationToken))
        {
            var all = new List<ProbeResult>();
            foreach (var g in results.Where(r => r != null && r.Interface != null).GroupBy(r => r.Interface))
            {
                var byPeer = new Dictionary<string, HandshakeResult>(StringComparer.Ordinal);
                foreach (var r in g) if (r.Peer != null && !byPeer.ContainsKey(r.Peer)) byPeer.Add(r.Peer, r);
                var probes = new List<ProbeResult>();
                var dev = devices?.FirstOrDefault(d => d.Interface.Name == g.Key);
                if (sampled && dev != null && dev.Interface.IsUp && !cancel.IsCancellationRequested)
                {
                    var need = dev.Peers.Where(p => p.PublicKey != null && byPeer.TryGetValue(p.PublicKey, out var h) && ProbeVerdict.NeedsProbe(h, true)).ToList();
                    if (need.Count > 0)
                    {
                        OnProbe?.Invoke(g.Key, need.Count);
                        var probe = new TunnelProbe(_runner, _readCounters, _verbose) { Sender = Sender, Wait = Wait };
                        foreach (var pr in probe.Run(g.Key, need, dev.Interface.Addresses, cancel)) { probes.Add(pr); _verbose(pr.Evidence); }
                    }
                }
                if (sampled) ProbeVerdict.Apply(byPeer, probes, true);
                else foreach (var h in byPeer.Values) h.OneWay = false;
                all.AddRange(probes);
            }
            return all;
        }
    }
}
