using System;
using System.Collections.Generic;
using System.Linq;
using System.Management.Automation;
using System.Threading;
using WgTroubleshoot.Changes;
using WgTroubleshoot.Native;
using WgTroubleshoot.State;

namespace WgTroubleshoot.Diagnosis
{
    /// <summary>
    /// Applies a finding's remediation, verifies it by re-running the diagnosis that found it (and, for a tunnel
    /// that had a handshake, that it still has one), and rolls the change back when verification fails.
    /// </summary>
    public sealed class Repairer
    {
        private readonly INativeRunner _runner;
        private readonly Func<RemediationCall, IList<ChangeRecord>> _runRemediation;
        private readonly Action<string> _verbose;
        private readonly CancellationToken _cancel;

        /// <summary>How long a peer repair waits for the fresh handshake that shows it worked.</summary>
        public TimeSpan HandshakeWait { get; set; } = TimeSpan.FromSeconds(30);

        /// <param name="runRemediation">Runs a remediation cmdlet call (with -PassThru and -Confirm:$false added) and returns its change records.</param>
        public Repairer(INativeRunner runner, Func<RemediationCall, IList<ChangeRecord>> runRemediation, Action<string> verbose = null, CancellationToken cancel = default(CancellationToken))
        {
            _runner = runner;
            _runRemediation = runRemediation;
            _verbose = verbose ?? (_ => { });
            _cancel = cancel;
        }

        /// <summary>The command that fixes the finding: the remediation cmdlet call, or for a down link the ip command.</summary>
        public static string ActionFor(FindingRef f)
            => f.Cause == nameof(Cause.InterfaceDown) ? $"ip link set dev {f.Interface} up"
             : f.Cause == nameof(Cause.EndpointRoutedIntoTunnel) ? Liveness.EndpointRouteRepair.Describe(f) ?? f.Remediation
             : RemediationCall.For(f)?.ToString() ?? f.Remediation;

        /// <summary>Causes repaired by a native command here rather than by a remediation cmdlet.</summary>
        private static bool DirectRepair(FindingRef f)
            => f.Cause == nameof(Cause.InterfaceDown) || (f.Cause == nameof(Cause.EndpointRoutedIntoTunnel) && Liveness.EndpointRouteRepair.Commands(f) != null);

        public RepairResult Repair(FindingRef f)
        {
            var result = new RepairResult { FindingId = f.Id, Cause = f.Cause, Interface = f.Interface, Peer = f.Peer, Action = ActionFor(f) };
            var call = RemediationCall.For(f);
            if (!f.CanRepair || (call == null && !DirectRepair(f)))
            {
                result.Error = "Not repaired: this cause needs a human. " + (f.Remediation ?? "");
                return result;
            }
            Privilege.Demand("Repairing " + f.Cause);

            var before = Diagnose(f.Interface);
            var healthyBefore = HealthyPeers(f.Interface);
            var errorsBefore = new HashSet<string>(before.Where(x => x.Severity == "Error").Select(Key));
            result.Before = Describe(before.Where(x => Matches(x, f)).DefaultIfEmpty(null).First(), f);
            var started = DateTime.UtcNow;

            List<ChangeRecord> changes;
            try
            {
                changes = Apply(f).ToList();
            }
            catch (WgException ex)
            {
                result.Error = "The repair failed and nothing is left half-changed: " + ex.Message;
                return result;
            }
            catch (RuntimeException ex)
            {
                result.Error = "The repair failed: " + ex.Message;
                return result;
            }
            result.Changes = changes.ToArray();
            result.Changed = changes.Any(c => c.Changed);
            result.UndoCommands = changes.Where(c => c.Changed).Reverse().SelectMany(c => c.UndoCommands).ToArray();

            if (f.Peer != null) WaitForHandshake(f.Interface, f.Peer, started);
            var after = Diagnose(f.Interface);
            var problems = new List<string>();
            var still = after.FirstOrDefault(x => Matches(x, f));
            if (still != null) problems.Add($"the diagnosis still finds {f.Cause}: {still.Summary}");
            foreach (var x in after.Where(x => x.Severity == "Error" && !errorsBefore.Contains(Key(x)) && !Matches(x, f)))
                problems.Add($"a new error appeared: {x.Cause}: {x.Summary}");
            var healthyAfter = HealthyPeers(f.Interface);
            foreach (var p in healthyBefore.Where(p => !healthyAfter.Contains(p)))
                problems.Add($"peer {p} had a working session before the change and has none now");
            result.After = problems.Count == 0 ? (f.Cause + " no longer found") : string.Join("; ", problems);

            if (problems.Count == 0)
            {
                result.Verified = true;
                return result;
            }
            result.Verified = false;
            if (!result.Changed)
            {
                result.Error = "Nothing was changed, and the problem remains: " + result.After;
                return result;
            }
            var failures = new List<string>();
            foreach (var c in changes.Where(c => c.Changed).Reverse())
                failures.AddRange(c.RunUndo(_runner).Select(e => e.Message));
            result.RolledBack = failures.Count == 0;
            result.Error = "Verification failed (" + result.After + "); the change was " +
                           (failures.Count == 0 ? "rolled back." : "rolled back only in part: " + string.Join("; ", failures));
            return result;
        }

        private IEnumerable<ChangeRecord> Apply(FindingRef f)
        {
            if (f.Cause == nameof(Cause.InterfaceDown))
            {
                var tx = new ChangeTransaction(_runner, "Bring the interface up");
                tx.Apply(new NativeCommand("ip", "link", "set", "dev", f.Interface, "up"), new[] { new NativeCommand("ip", "link", "set", "dev", f.Interface, "down") });
                return new[] { tx.ToRecord(f.Interface, "Bring the interface up", "down", "up") };
            }
            if (f.Cause == nameof(Cause.EndpointRoutedIntoTunnel)) return Liveness.EndpointRouteRepair.Apply(_runner, f);
            var call = RemediationCall.For(f);
            _verbose("Running: " + call);
            return _runRemediation(call);
        }

        private List<Finding> Diagnose(string iface)
        {
            return Checks.HostDiagnosis.DiagnoseInterface(_runner, iface, _verbose, _cancel);
        }

        private HashSet<string> HealthyPeers(string iface)
        {
            var set = new HashSet<string>(StringComparer.Ordinal);
            foreach (var d in new WgStateReader(_runner).Read(new[] { iface }, _ => { }))
                foreach (var p in d.Peers)
                    if (p.HandshakeAge.HasValue && p.HandshakeAge.Value <= HandshakeEvaluator.RejectAfterTime) set.Add(p.PublicKey);
            return set;
        }

        private void WaitForHandshake(string iface, string peer, DateTime since)
        {
            var deadline = DateTime.UtcNow + HandshakeWait;
            while (DateTime.UtcNow < deadline && !_cancel.IsCancellationRequested)
            {
                var p = new WgStateReader(_runner).Read(new[] { iface }, _ => { }).SelectMany(d => d.Peers).FirstOrDefault(x => x.PublicKey == peer);
                if (p?.LatestHandshake != null && p.LatestHandshake.Value >= since.AddSeconds(-1)) return;
                _cancel.WaitHandle.WaitOne(1000);
            }
        }

        private static bool Matches(Finding x, FindingRef f)
            => x.Cause == f.Cause && (f.Peer == null || x.Peer == f.Peer) && Checks.Diagnoser.Rank(x.Severity) >= Checks.Diagnoser.Rank(f.Severity ?? "Info");

        private static string Key(Finding x) => x.Cause + "|" + x.Peer;

        private static string Describe(Finding x, FindingRef f)
            => x == null ? $"{f.Cause} (as found before; not seen again just before the repair)" : $"{x.Cause}: {x.Summary}";
    }

    /// <summary>The parts of a finding a repair needs, read from a live or a deserialized (remoting) Finding.</summary>
    public sealed class FindingRef
    {
        public string Id { get; set; }
        public string Severity { get; set; }
        public string Cause { get; set; }
        public string Interface { get; set; }
        public string Peer { get; set; }
        public string Remediation { get; set; }
        public bool CanRepair { get; set; }
        public string[] RepairData { get; set; } = new string[0];

        public string Data(string key)
        {
            foreach (var kv in RepairData ?? new string[0])
            {
                int eq = kv.IndexOf('=');
                if (eq > 0 && string.Equals(kv.Substring(0, eq), key, StringComparison.OrdinalIgnoreCase)) return kv.Substring(eq + 1);
            }
            return null;
        }

        public static FindingRef From(Finding f)
            => new FindingRef { Id = f.Id, Severity = f.Severity, Cause = f.Cause, Interface = f.Interface, Peer = f.Peer, Remediation = f.Remediation, CanRepair = f.CanRepair, RepairData = f.RepairData };

        public static FindingRef From(PSObject o)
        {
            if (o == null) return null;
            if (o.BaseObject is Finding f) return From(f);
            string S(string n) => o.Properties[n]?.Value?.ToString();
            if (S("Cause") == null || S("Interface") == null) return null;
            bool.TryParse(S("CanRepair"), out var can);
            var data = o.Properties["RepairData"]?.Value;
            var list = new List<string>();
            if (data is PSObject pd) data = pd.BaseObject;
            if (data is System.Collections.IEnumerable e && !(data is string)) foreach (var x in e) list.Add(x?.ToString());
            return new FindingRef { Id = S("Id"), Severity = S("Severity"), Cause = S("Cause"), Interface = S("Interface"), Peer = S("Peer"), Remediation = S("Remediation"), CanRepair = can, RepairData = list.ToArray() };
        }
    }

    /// <summary>
    /// A remediation as a cmdlet name and validated parameters, built from a finding's Cause and data, never
    /// from its text: a finding that came through remoting (or was made up) cannot make a repair run anything else.
    /// </summary>
    public sealed class RemediationCall
    {
        public string Command { get; private set; }
        public IDictionary<string, object> Parameters { get; } = new Dictionary<string, object>(StringComparer.OrdinalIgnoreCase);

        private static readonly string[] Backends = { "nftables", "iptables-nft", "iptables-legacy", "ip6tables-nft", "ip6tables-legacy", "ufw", "firewalld" };

        public static RemediationCall For(FindingRef f)
        {
            if (f == null || !Config.WgConfigLocation.IsValidInterfaceName(f.Interface)) return null;
            var c = new RemediationCall();
            c.Parameters["Interface"] = f.Interface;
            switch (f.Cause)
            {
                case nameof(Cause.FirewallBlocksPort):
                case nameof(Cause.TcpOnlyFirewallRule):
                    c.Command = "Add-WgFirewallRule";
                    var backend = f.Data("Backend");
                    if (backend != null && Array.IndexOf(Backends, backend) >= 0) c.Parameters["Backend"] = backend;
                    return c;
                case nameof(Cause.StaleEndpoint):
                    var key = f.Data("PublicKey") ?? f.Peer;
                    if (!Keys.WgKey.IsValid(key)) return null;
                    c.Command = "Update-WgEndpoint";
                    c.Parameters["PublicKey"] = new[] { key };
                    c.Parameters["Interface"] = new[] { f.Interface };
                    return c;
                case nameof(Cause.ForwardingDisabled):
                case nameof(Cause.NatMissing):
                case nameof(Cause.ForwardPathBlocked):
                    c.Command = "Enable-WgForwarding";
                    if (f.Cause != nameof(Cause.ForwardingDisabled) || string.Equals(f.Data("Nat"), "true", StringComparison.OrdinalIgnoreCase))
                        c.Parameters["Nat"] = new SwitchParameter(true);
                    if (string.Equals(f.Data("IPv6"), "true", StringComparison.OrdinalIgnoreCase)) c.Parameters["IPv6"] = new SwitchParameter(true);
                    return c;
                case nameof(Cause.MtuBlackhole):
                    if (!int.TryParse(f.Data("Mtu"), out var mtu) || mtu < 576 || mtu > 65535) return null;
                    c.Command = "Set-WgMtu";
                    c.Parameters["Mtu"] = mtu;
                    c.Parameters["Scope"] = "Both";
                    return c;
                default:
                    return null;
            }
        }

        public override string ToString()
            => Command + string.Concat(Parameters.Select(p => " -" + p.Key + (p.Value is SwitchParameter ? "" : " " + Render(p.Value))));

        private static string Render(object v)
            => v is string[] a ? string.Join(",", a.Select(Quote)) : Quote(Convert.ToString(v, System.Globalization.CultureInfo.InvariantCulture));

        private static string Quote(string s) => s.IndexOfAny(new[] { ' ', '+', '/', '=', '\'', ',' }) >= 0 ? "'" + s.Replace("'", "''") + "'" : s;
    }
}
