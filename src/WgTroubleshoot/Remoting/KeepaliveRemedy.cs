using System;
using System.Globalization;
using System.IO;
using System.Linq;
using System.Text.RegularExpressions;
using WgTroubleshoot.Config;
using WgTroubleshoot.Native;
using WgTroubleshoot.State;

namespace WgTroubleshoot.Remoting
{
    /// <summary>
    /// The repair of NoKeepaliveBehindNat on the side behind the NAT: PersistentKeepalive for the peer, live
    /// (`wg set IF peer KEY persistent-keepalive N`) and in the interface's configuration (that line only,
    /// every other byte kept, written atomically with a backup). Verified by reading both back; the live
    /// value and the file are put back when anything fails.
    /// </summary>
    public sealed class KeepaliveRemedy
    {
        private static readonly Regex Key = new Regex(@"^[A-Za-z0-9+/]{42}[AEIMQUYcgkosw048]=$", RegexOptions.CultureInvariant);
        private readonly INativeRunner _runner;

        public KeepaliveRemedy(INativeRunner runner) { _runner = runner; }

        /// <summary>Validates the finding's repair data; null when it is not a repair this remedy can do.</summary>
        public static string Validate(string interfaceName, string peer, string keepalive, out int seconds)
        {
            seconds = 0;
            try { RemoteEndpoint.Validate(interfaceName, allowEmpty: false); }
            catch (ArgumentException) { return "the interface name is not valid"; }
            if (peer == null || !Key.IsMatch(peer)) return "the peer is not a WireGuard public key";
            if (keepalive == null || !int.TryParse(keepalive, NumberStyles.None, CultureInfo.InvariantCulture, out seconds) || seconds < 1 || seconds > 65535)
                return "the keepalive is not a number of seconds (1-65535)";
            return null;
        }

        public static string ActionText(string interfaceName, string peer, int seconds)
            => $"wg set {interfaceName} peer {peer} persistent-keepalive {seconds}; PersistentKeepalive = {seconds} in the configuration";

        public RepairResult Apply(string findingId, string interfaceName, string peer, int seconds)
        {
            var result = new RepairResult { FindingId = findingId, Cause = "NoKeepaliveBehindNat", Interface = interfaceName, Peer = peer, Action = ActionText(interfaceName, peer, seconds) };
            int before = ReadLive(interfaceName, peer);
            result.Before = $"PersistentKeepalive {(before > 0 ? before + " s" : "off")} (live)";
            string path = WgConfigLocation.PathForConfigOrNull(interfaceName);
            if (path != null && !File.Exists(path)) path = null;
            byte[] fileBefore = path != null ? File.ReadAllBytes(path) : null;
            var wg = WgStateReader.WgTool;
            var setCmd = new[] { "set", interfaceName, "peer", peer, "persistent-keepalive", seconds.ToString(CultureInfo.InvariantCulture) };
            var undoCmd = new[] { "set", interfaceName, "peer", peer, "persistent-keepalive", before > 0 ? before.ToString(CultureInfo.InvariantCulture) : "off" };
            var change = new ChangeRecord
            {
                Target = interfaceName,
                Action = result.Action,
                Commands = new[] { NativeRunner.Quote(wg) + " " + string.Join(" ", setCmd) },
                UndoCommands = new[] { NativeRunner.Quote(wg) + " " + string.Join(" ", undoCmd) }
                    .Concat(path != null ? new[] { "cp -p " + NativeRunner.Quote(path + WgConfigFile.BackupSuffix) + " " + NativeRunner.Quote(path) } : new string[0]).ToArray(),
                Before = result.Before,
                Notes = path == null ? new[] { "No configuration file was found for " + interfaceName + ": the keepalive is live only and is lost when the interface is recreated." } : new string[0],
            };
            try
            {
                var r = _runner.Run(wg, setCmd);
                if (!r.Success) throw NativeRunner.ToError(r, "Setting the keepalive");
                change.Changed = true;
                if (path != null) WgConfigFile.Edit(path, d => d.SetValue(WgConfigSectionRef.Peer(peer), "PersistentKeepalive", seconds.ToString(CultureInfo.InvariantCulture)));
                int after = ReadLive(interfaceName, peer);
                bool fileOk = path == null || ConfigHas(path, peer, seconds);
                result.After = $"PersistentKeepalive {(after > 0 ? after + " s" : "off")} (live)" + (path != null ? (fileOk ? $", PersistentKeepalive = {seconds} in {path}" : $", {path} unchanged") : "");
                change.After = result.After;
                result.Changed = true;
                result.Verified = after == seconds && fileOk;
                if (!result.Verified) throw new WgException(ErrorIds.ToolFailed, System.Management.Automation.ErrorCategory.InvalidResult, "The keepalive did not read back as set: " + result.After, interfaceName);
            }
            catch (Exception ex) when (ex is WgException || ex is IOException || ex is UnauthorizedAccessException)
            {
                result.Error = ex.Message;
                try { _runner.Run(wg, undoCmd); } catch (WgException) { }
                if (fileBefore != null && change.Changed) { try { WgConfigFile.Write(path, fileBefore); } catch (Exception) { } }
                result.RolledBack = change.Changed;
                result.Verified = false;
            }
            result.Changes = new[] { change };
            result.UndoCommands = change.UndoCommands;
            return result;
        }

        private int ReadLive(string interfaceName, string peer)
        {
            var r = _runner.Run(WgStateReader.WgTool, new[] { "show", interfaceName, "persistent-keepalive" });
            if (!r.Success) throw NativeRunner.ToError(r, "Reading the keepalive");
            foreach (var line in r.StdOut.Split('\n'))
            {
                var f = line.Trim().Split(new[] { '\t', ' ' }, StringSplitOptions.RemoveEmptyEntries);
                if (f.Length == 2 && f[0] == peer) return int.TryParse(f[1], NumberStyles.None, CultureInfo.InvariantCulture, out var s) ? s : 0;
            }
            return 0;
        }

        private static bool ConfigHas(string path, string peer, int seconds)
        {
            var cfg = WgConfigParser.ParseFile(path);
            var p = cfg.Peers.FirstOrDefault(x => x.PublicKey == peer);
            return p != null && p.PersistentKeepalive == seconds;
        }
    }
}
