using System;
using System.Collections.Generic;
using System.Globalization;
using System.IO;
using System.Linq;
using System.Management.Automation;
using WgTroubleshoot.Changes;
using WgTroubleshoot.Config;
using WgTroubleshoot.Forwarding;
using WgTroubleshoot.Snapshot;
using WgTroubleshoot.State;

namespace WgTroubleshoot.Remedies
{
    /// <summary>
    /// PersistentKeepalive for one peer (the repair of NoKeepaliveBehindNat, on the side behind the NAT): live
    /// (`wg set IF peer KEY persistent-keepalive N`) and in the interface's configuration (that one line of the
    /// peer's section, every other byte kept, written atomically with a backup). Both are steps of the repair's
    /// one transaction, each with its undo; verification reads both back from a new snapshot.
    /// </summary>
    public static class KeepaliveRemedy
    {
        public static string Display(string iface, string peer, int seconds)
            => $"wg set {iface} peer {peer} persistent-keepalive {seconds.ToString(CultureInfo.InvariantCulture)} (and PersistentKeepalive = {seconds.ToString(CultureInfo.InvariantCulture)} in the configuration)";

        public static List<ChangeRecord> Set(RemedyContext ctx, string iface, string peer, int seconds)
        {
            if (!Keys.WgKey.IsValid(peer))
                throw new WgException(ErrorIds.InvalidKey, ErrorCategory.InvalidArgument, "The peer is not a WireGuard public key.", iface);
            if (seconds < 1 || seconds > 65535)
                throw new WgException(ErrorIds.InvalidArgument, ErrorCategory.InvalidArgument, "PersistentKeepalive must be 1-65535 seconds.", iface);
            var dev = LinkRemedy.ReadWireGuard(ctx.Runner, iface, "Setting the keepalive of a peer of " + iface);
            var live = dev.Peers.FirstOrDefault(p => p.PublicKey == peer)
                ?? throw new WgException(ErrorIds.PeerNotFound, ErrorCategory.ObjectNotFound, $"{iface} has no peer {peer} (live): nothing was changed.", iface);
            var c = CultureInfo.InvariantCulture;
            var value = seconds.ToString(c);
            var steps = new List<RepairStep> { PlanLive(dev.Interface.Name, peer, live.PersistentKeepalive, seconds) };

            var path = WgConfigLocation.PathForConfigOrNull(dev.Interface.Name);
            if (path == null || !File.Exists(path))
                ctx.Warn($"{path ?? iface}: no configuration file: PersistentKeepalive is set on the running interface only and is lost when the interface is recreated.");
            else
            {
                var step = PlanConfig(path, peer, value);
                if (step == null) ctx.Warn($"{path} has no [Peer] with the public key {peer}: PersistentKeepalive is set on the running interface only.");
                else steps.Add(step);
            }
            return ctx.Execute("Setting the keepalive of a peer", steps);
        }

        private static RepairStep PlanLive(string iface, string peer, int? current, int seconds)
        {
            var c = CultureInfo.InvariantCulture;
            var set = new NativeCommand(WgStateReader.WgTool, "set", iface, "peer", peer, "persistent-keepalive", seconds.ToString(c));
            var undo = new NativeCommand(WgStateReader.WgTool, "set", iface, "peer", peer, "persistent-keepalive", current.HasValue ? current.Value.ToString(c) : "off");
            var step = new RepairStep
            {
                Needed = current != seconds,
                Record = new ChangeRecord
                {
                    Target = $"{iface} peer {peer}",
                    Action = set.CommandLine,
                    Before = "PersistentKeepalive " + (current.HasValue ? current.Value.ToString(c) + " s" : "off") + " (live)",
                    After = "PersistentKeepalive " + seconds.ToString(c) + " s (live)",
                },
            };
            step.Apply = tx => tx.Run(step.Record, "Setting the keepalive of " + peer, set, undo);
            return step;
        }

        /// <summary>The edit of the peer's section; null when the file has no section for that peer.</summary>
        private static RepairStep PlanConfig(string path, string peer, string value)
        {
            var doc = WgConfigFile.ReadDocument(path);
            var before = doc.ToBytes();
            var cfg = WgConfigParser.ParseFile(path);
            var p = cfg.Peers.FirstOrDefault(x => x.PublicKey == peer);
            if (p == null) return null;
            var preview = WgConfigDocument.Parse(before, path);
            bool changed = preview.SetValue(WgConfigSectionRef.Peer(peer), "PersistentKeepalive", value);
            var old = p.PersistentKeepalive?.ToString(CultureInfo.InvariantCulture);
            var step = new RepairStep
            {
                Needed = changed,
                Record = new ChangeRecord
                {
                    Target = path,
                    Action = old == null
                        ? $"add 'PersistentKeepalive = {value}' to the [Peer] {Keys.WgKey.Short(peer)} of {path}"
                        : $"change 'PersistentKeepalive = {old}' to 'PersistentKeepalive = {value}' in the [Peer] {Keys.WgKey.Short(peer)} of {path}",
                    Before = old == null ? "(no PersistentKeepalive line)" : "PersistentKeepalive = " + old,
                    After = "PersistentKeepalive = " + value,
                },
            };
            step.Apply = tx => tx.EditConfig(step.Record, path, d => d.SetValue(WgConfigSectionRef.Peer(peer), "PersistentKeepalive", value));
            return step;
        }

        /// <summary>
        /// The verification on a new snapshot: the live keepalive of the peer (the last sample) and, when the
        /// snapshot holds the interface's configuration with that peer, its PersistentKeepalive. Null when both
        /// read back as set; otherwise what was read.
        /// </summary>
        public static string Verify(HostSnapshot snapshot, string iface, string peer, int seconds)
        {
            var i = snapshot?.Interface(iface);
            if (i == null || i.Samples.Count == 0) return $"the new snapshot has no live state of {iface}, so the keepalive could not be read back";
            var live = i.Samples[i.Samples.Count - 1].Peers.FirstOrDefault(p => p.PublicKey == peer);
            if (live == null) return $"the new snapshot has no peer {peer} on {iface}";
            if (live.PersistentKeepalive != seconds)
                return $"the live keepalive of the peer reads {(live.PersistentKeepalive.HasValue ? live.PersistentKeepalive.Value + " s" : "off")}, not {seconds} s";
            var cp = i.Config?.Peers?.FirstOrDefault(p => p.PublicKey == peer);
            if (cp != null && cp.PersistentKeepalive != seconds)
                return $"{i.Config.Path} has PersistentKeepalive {(cp.PersistentKeepalive.HasValue ? "= " + cp.PersistentKeepalive.Value : "off")} for the peer, not {seconds}";
            return null;
        }
    }
}
