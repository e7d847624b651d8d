using System;
using System.Collections.Generic;
using System.IO;
using System.Linq;
using WgTroubleshoot.Changes;
using WgTroubleshoot.Config;
using WgTroubleshoot.Diagnosis;
using WgTroubleshoot.Native;
using WgTroubleshoot.State;

namespace WgTroubleshoot.Remedies
{
    /// <summary>Re-applies the current address of drifted dynamic-DNS endpoints (Update-WgEndpoint, and the repair of StaleEndpoint).</summary>
    public static class EndpointRemedy
    {
        /// <summary>Updates the drifted peers of the interfaces (all when null), only those with the given keys when given.</summary>
        public static List<ChangeRecord> Update(RemedyContext ctx, string[] interfaces, string[] publicKeys, bool force)
        {
            var records = new List<ChangeRecord>();
            foreach (var s in Review(ctx.Runner, interfaces, publicKeys, ctx.Error, ctx.Warn, ctx.Verbose))
            {
                var record = Apply(ctx, s, force);
                if (record != null) records.Add(record);
            }
            return records;
        }

        /// <summary>
        /// The StaleEndpoint repair when the diagnosis' liveness probe proved the peer one-way (data out, nothing
        /// back) while its handshake is still fresh: reresolve-dns.sh's 135 s rule would leave it alone, but a fresh
        /// handshake proves nothing about the last two minutes. The name is resolved again here and one probe is sent
        /// again, live, after ShouldProcess and before the change: only a peer that still does not answer and whose
        /// name resolves elsewhere is pointed at the new address (no -Force needed). A peer that answers now is left alone.
        /// </summary>
        public static List<ChangeRecord> UpdateOneWay(RemedyContext ctx, string iface, string publicKey)
        {
            var records = new List<ChangeRecord>();
            foreach (var s in Review(ctx.Runner, new[] { iface }, new[] { publicKey }, ctx.Error, ctx.Warn, ctx.Verbose))
            {
                var record = EndpointChecker.ShouldUpdate(s, false) ? Apply(ctx, s, false)
                    : Apply(ctx, s, s.Status == nameof(EndpointState.Drifted), () => ProbeStillOneWay(ctx, s.Interface, s.Peer));
                if (record != null) records.Add(record);
            }
            return records;
        }

        /// <summary>One liveness probe of the peer, now: null when it proved one-way (sent, nothing came back), else why not.</summary>
        internal static string ProbeStillOneWay(RemedyContext ctx, string iface, string publicKey)
        {
            var reader = new WgStateReader(ctx.Runner);
            var devices = reader.Read(new[] { iface }, _ => { });
            if (devices.Count != 1) return $"{iface} is not a live WireGuard interface";
            reader.AddLinkDetails(devices);
            var peer = devices[0].Peers.FirstOrDefault(p => p.PublicKey == publicKey);
            if (peer == null) return "the peer is not on the live interface";
            var probe = new Liveness.TunnelProbe(ctx.Runner, name =>
            {
                var d = reader.Read(new[] { name }, _ => { });
                if (d.Count != 1) return null;
                var m = new Dictionary<string, Liveness.PeerCounters>(StringComparer.Ordinal);
                foreach (var p in d[0].Peers) if (p.PublicKey != null && !m.ContainsKey(p.PublicKey)) m.Add(p.PublicKey, new Liveness.PeerCounters(p.RxBytes, p.TxBytes, p.Endpoint));
                return m;
            }, ctx.Verbose);
            var r = probe.Run(iface, new[] { peer }, devices[0].Interface.Addresses).FirstOrDefault();
            if (r == null) return "no probe result";
            ctx.Verbose(r.Evidence);
            if (!r.WasSent) return "the probe could not be sent: " + r.NotSentReason;
            return r.Answered ? "the peer answers the probe now: " + r.Evidence : null;
        }

        /// <summary>The walk shared with Test-WgEndpoint: live interfaces, their configs, host-name peers.</summary>
        public static List<EndpointStatus> Review(INativeRunner runner, string[] interfaces, string[] publicKeys,
            Action<WgException> error, Action<string> warn, Action<string> verbose)
        {
            var results = new List<EndpointStatus>();
            var reader = new WgStateReader(runner);
            var checker = new EndpointChecker(h => EndpointChecker.SystemResolve(h, TimeSpan.FromSeconds(5)), a => EndpointChecker.HasRoute(runner, a));
            foreach (var dev in reader.Read(interfaces, error))
            {
                var path = WgConfigLocation.PathForConfigOrNull(dev.Interface.Name);
                if (path == null || !File.Exists(path))
                {
                    warn($"{dev.Interface.Name}: no configuration file ({path}), so no configured host names to compare.");
                    continue;
                }
                WgConfig config;
                try
                {
                    config = WgConfigParser.ParseFile(path);
                }
                catch (WgException ex)
                {
                    error(ex);
                    continue;
                }
                var named = config.Peers.Where(p => EndpointChecker.IsHostName(p.EndpointHost)).ToList();
                if (config.SaveConfig && named.Count > 0)
                    warn($"{config.Path} has SaveConfig = true and host-name endpoints ({string.Join(", ", named.Select(p => p.EndpointHost).Distinct())}): "
                         + "wg-quick down rewrites the file from the live state and replaces the names with their current addresses. Set SaveConfig = false to keep dynamic DNS working.");
                foreach (var p in named)
                {
                    if (publicKeys != null && Array.IndexOf(publicKeys, p.PublicKey) < 0) continue;
                    var live = dev.Peers.FirstOrDefault(x => x.PublicKey == p.PublicKey);
                    if (live == null)
                    {
                        warn($"{dev.Interface.Name}: peer {p.Name ?? p.PublicKey} is in {config.Path} but not on the live interface.");
                        continue;
                    }
                    verbose($"Resolving '{p.EndpointHost}' for peer {p.Name ?? p.PublicKey}.");
                    var s = checker.Check(config, p, live);
                    if (s.AddressFamilyWarning != null) warn(s.AddressFamilyWarning);
                    results.Add(s);
                }
            }
            return results;
        }

        /// <summary>
        /// Points a drifted peer at the address its name resolves to now (reresolve-dns.sh's rule: only when the
        /// handshake is older than 135 s, unless forced). Returns the change record, or null when ShouldProcess declined.
        /// </summary>
        public static ChangeRecord Apply(RemedyContext ctx, EndpointStatus s, bool force) => Apply(ctx, s, force, null);

        /// <param name="confirm">Runs after ShouldProcess and before the change; a non-null answer (the reason) leaves the peer alone.</param>
        private static ChangeRecord Apply(RemedyContext ctx, EndpointStatus s, bool force, Func<string> confirm)
        {
            var target = $"{s.Interface} peer {s.Name ?? s.Peer}";
            const string action = "Re-resolve endpoint";
            if (!EndpointChecker.ShouldUpdate(s, force))
            {
                var why = s.Status == nameof(EndpointState.Drifted)
                    ? $"drifted, but the latest handshake is {Format.Age(s.HandshakeAge)} (within 135 s): left alone; use -Force to update anyway"
                    : $"{s.Status}: {s.Reason}";
                ctx.Verbose($"{target}: {why}");
                return Transaction.Unchanged(target, action, $"endpoint {s.LiveEndpoint ?? "(none)"}; {why}");
            }
            var set = new NativeCommand(WgStateReader.WgTool, "set", s.Interface, "peer", s.Peer, "endpoint", s.RecommendedEndpoint);
            if (!ctx.ShouldProcess(set.CommandLine, $"Point {target} at {s.RecommendedEndpoint} ('{s.Host}' resolves there now; it sends to {s.LiveEndpoint ?? "(none)"})"))
                return null;
            Privilege.Demand("Updating a WireGuard endpoint");
            var refused = confirm?.Invoke();
            if (refused != null)
            {
                var why = $"drifted, latest handshake {Format.Age(s.HandshakeAge)}; not one-way now ({refused}): left alone; use Update-WgEndpoint -Force to update anyway";
                ctx.Verbose($"{target}: {why}");
                return Transaction.Unchanged(target, action, $"endpoint {s.LiveEndpoint ?? "(none)"}; {why}");
            }
            var undo = s.LiveEndpoint == null ? new NativeCommand[0]
                : new[] { new NativeCommand(WgStateReader.WgTool, "set", s.Interface, "peer", s.Peer, "endpoint", s.LiveEndpoint) };
            var rec = ctx.Transaction.Begin(target, action, $"endpoint {s.LiveEndpoint ?? "(none)"}");
            ctx.Transaction.Run(rec, action, set, undo);
            rec.After = $"endpoint {s.RecommendedEndpoint} ('{s.Host}')";
            return rec;
        }
    }
}
