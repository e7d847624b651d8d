using System;
using System.Collections.Generic;
using System.Linq;
using WgTroubleshoot;
using WgTroubleshoot.Changes;
using WgTroubleshoot.Diagnosis;
using WgTroubleshoot.Native;
using WgTroubleshoot.Remediation;
using Xunit;

namespace WgTroubleshoot.Tests.Remedies
{
    /// <summary>The policy keys change what an unattended run does (the lab shows the same end to end).</summary>
    [Collection("Privilege")]
    public sealed class RemediationRunTests : IDisposable
    {
        public RemediationRunTests() { Privilege.Override = () => true; }
        public void Dispose() { Privilege.Override = null; }

        private const string Priv = "AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA=";
        private const string Pub = "BBBBBBBBBBBBBBBBBBBBBBBBBBBBBBBBBBBBBBBBBBA=";
        private const string Peer = "CCCCCCCCCCCCCCCCCCCCCCCCCCCCCCCCCCCCCCCCCCA=";

        /// <summary>"lo" as a WireGuard interface listening on 51820 with one peer whose handshake is 100 s old.</summary>
        private static RecordingRunner Runner()
        {
            var hs = DateTimeOffset.UtcNow.AddSeconds(-100).ToUnixTimeSeconds();
            return new RecordingRunner
            {
                Answer = l => l == "wg show lo dump"
                    ? new NativeResult(l, 0, $"{Priv}\t{Pub}\t51820\toff\n{Peer}\t(none)\t198.51.100.7:51820\t192.0.2.2/32\t{hs}\t100\t200\t25\n", "", TimeSpan.Zero)
                    : null,
            };
        }

        private static RemediationReport Run(string keys, params Finding[] findings)
        {
            var runner = Runner();
            var policy = RemediationPolicy.Parse("interfaces:\n  lo:\n" + string.Join("", keys.Split('\n').Select(k => "    " + k + "\n")));
            var repairer = new Repairer(runner, _ => throw new InvalidOperationException("no repair may run in these tests"));
            var run = new RemediationRun(runner, repairer, (t, a) => true, null)
            {
                Diagnose = (ip, nf) => findings.Select(f => { f.Interface = "lo"; return f; }).ToList(),
            };
            return run.Run(policy, whatIf: false);
        }

        private static Finding F(string cause, params string[] data)
            => new Finding { Cause = cause, Severity = "Warning", Summary = cause, CanRepair = true, RepairData = new[] { "Interface=lo" }.Concat(data).ToArray() };

        [Fact]
        public void MaxHandshakeAgeSeconds_decides_whether_an_old_handshake_is_down()
        {
            if (!System.IO.Directory.Exists("/sys/class/net/lo")) return;
            Assert.Equal(RemediationExitCode.Healthy, Run("maxHandshakeAgeSeconds: 180").ExitCode);
            var strict = Run("maxHandshakeAgeSeconds: 60");
            Assert.Equal(RemediationExitCode.NeedsHuman, strict.ExitCode);
            Assert.Contains(strict.Interfaces[0].NeedsHuman, n => n.Contains("maxHandshakeAgeSeconds (60)"));
        }

        [Fact]
        public void FirewallPort_other_than_the_listen_port_needs_a_human()
        {
            if (!System.IO.Directory.Exists("/sys/class/net/lo")) return;
            Assert.Equal(RemediationExitCode.Healthy, Run("firewallPort: 51820").ExitCode);
            Assert.Equal(RemediationExitCode.NeedsHuman, Run("firewallPort: 51821").ExitCode);
        }

        [Fact]
        public void Forwarding_false_and_nat_false_make_those_findings_as_wanted()
        {
            if (!System.IO.Directory.Exists("/sys/class/net/lo")) return;
            // Forwarding on in this namespace would be NeedsHuman with forwarding: false; the test host decides, so only nat is checked there.
            Assert.Equal(RemediationExitCode.Healthy, Run("nat: false\nallowedRepairs: [Nat]", F("NatMissing", "Nat=true")).ExitCode);
            var notAllowed = Run("allowedRepairs: []", F("NatMissing", "Nat=true"));
            Assert.Equal(RemediationExitCode.NeedsHuman, notAllowed.ExitCode);
        }

        [Fact]
        public void ReresolveEndpoints_false_forbids_the_endpoint_repair_whatever_allowedRepairs_says()
        {
            if (!System.IO.Directory.Exists("/sys/class/net/lo")) return;
            var r = Run("reresolveEndpoints: false\nallowedRepairs: [Endpoint]", F("StaleEndpoint", "PublicKey=" + Peer));
            Assert.Equal(RemediationExitCode.NeedsHuman, r.ExitCode);
            Assert.Contains(r.Interfaces[0].NeedsHuman, n => n.Contains("reresolveEndpoints: false"));
            Assert.Empty(r.Interfaces[0].Repairs);
        }

        [Fact]
        public void A_check_that_could_not_run_is_never_healthy()
        {
            if (!System.IO.Directory.Exists("/sys/class/net/lo")) return;
            var r = Run("allowedRepairs: []", new Finding { Cause = "CheckNotRun", Severity = "Warning", Summary = "the firewall check could not run: nft failed" });
            Assert.Equal(RemediationExitCode.NeedsHuman, r.ExitCode);
            Assert.Contains(r.Interfaces[0].NeedsHuman, n => n.StartsWith("CheckNotRun"));
        }

        [Fact]
        public void A_forged_finding_in_a_run_is_refused_not_repaired()
        {
            if (!System.IO.Directory.Exists("/sys/class/net/lo")) return;
            var r = Run("allowedRepairs: [Mtu]", F("MtuBlackhole", "Mtu=99999"));
            Assert.Equal(RemediationExitCode.NeedsHuman, r.ExitCode);
            Assert.Contains(r.Interfaces[0].NeedsHuman, n => n.Contains("refused"));
        }
    }
}
