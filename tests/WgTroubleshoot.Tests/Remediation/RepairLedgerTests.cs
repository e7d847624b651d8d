using System;
using System.Collections.Generic;
using System.IO;
using System.Management.Automation;
using WgTroubleshoot.Config;
using WgTroubleshoot.Remediation;
using Xunit;

#pragma warning disable CA1416
namespace WgTroubleshoot.Tests.Remediation
{
    /// <summary>The hourly repair limit cannot be bypassed: no state file, an unwritable or corrupt one, overlapping runs, a clock in the future.</summary>
    [Collection(nameof(WgTroubleshoot.Tests.Config.ConfigDirectoryCollection))]
    public class RepairLedgerTests : IDisposable
    {
        private readonly string _dir;
        private readonly List<string> _warnings = new List<string>();

        public RepairLedgerTests()
        {
            _dir = Path.Combine(Path.GetTempPath(), "wgz-ledger-" + Guid.NewGuid().ToString("N").Substring(0, 8));
            Directory.CreateDirectory(_dir);
            WgConfigLocation.ConfigDirectory = Path.Combine(_dir, "wireguard");
            Directory.CreateDirectory(WgConfigLocation.ConfigDirectory);
        }

        public void Dispose()
        {
            WgConfigLocation.ConfigDirectory = null;
            RepairLedger.UtcNow = () => DateTime.UtcNow;
            RepairLedger.LockTimeout = TimeSpan.FromSeconds(60);
            try { Directory.Delete(_dir, true); } catch (IOException) { }
        }

        private string State => Path.Combine(_dir, "state.json");
        private string PolicyPath => Path.Combine(_dir, "policy.yaml");

        private RemediationPolicy Policy(string stateFile)
            => RemediationPolicy.Parse("interfaces:\n  wg0:\n    allowedRepairs: [Firewall]\n" + (stateFile == null ? "" : "stateFile: '" + stateFile + "'\n"), PolicyPath);

        [Fact]
        public void WithoutAStateFileNoRepairIsAllowedAndItSaysWhy()
        {
            using (var l = RepairLedger.Open(Policy(null), false, _warnings.Add))
            {
                Assert.False(l.TryReserve("wg0", "FirewallBlocksPort", out var why));
                Assert.Contains("stateFile", why);
                Assert.Contains("cannot be counted", why);
            }
            Assert.Contains(_warnings, w => w.Contains("stateFile"));
        }

        [Fact]
        public void EveryRepairIsRecordedBeforeItRunsAndOneThatChangedNothingIsTakenBack()
        {
            using (var l = RepairLedger.Open(Policy(State), false, _warnings.Add))
            {
                Assert.True(File.Exists(State), "the state file is written before any repair");
                Assert.True(l.TryReserve("wg0", "FirewallBlocksPort", out _));
                Assert.Contains("FirewallBlocksPort", File.ReadAllText(State));
                l.Complete(true);
                Assert.True(l.TryReserve("wg0", "MtuBlackhole", out _));
                l.Complete(false);
                Assert.Equal(1, l.CountSince("wg0", DateTime.UtcNow.AddHours(-1)));
            }
            using (var l = RepairLedger.Open(Policy(State), false, _warnings.Add))
                Assert.Equal(1, l.CountSince("wg0", DateTime.UtcNow.AddHours(-1)));
            Assert.DoesNotContain("MtuBlackhole", File.ReadAllText(State));
            Assert.Equal(0x180, (int)File.GetUnixFileMode(State));
        }

        [Fact]
        public void AnUnwritableStateFileStopsTheRunBeforeItStarts()
        {
            Directory.CreateDirectory(State); // a directory where the file should be: nothing can be written
            var ex = Assert.Throws<WgException>(() => RepairLedger.Open(Policy(State), false, _warnings.Add));
            Assert.Equal(ErrorIds.FileWriteFailed, ex.ErrorId);
            Assert.Contains("no repair runs", ex.Message);
        }

        [Fact]
        public void OverlappingRunsSerialiseAndTheSecondFailsClearlyWhenItCannotWait()
        {
            RepairLedger.LockTimeout = TimeSpan.FromMilliseconds(300);
            using (var first = RepairLedger.Open(Policy(State), false, _warnings.Add))
            {
                var ex = Assert.Throws<WgException>(() => RepairLedger.Open(Policy(State), false, _warnings.Add));
                Assert.Equal(ErrorIds.RemediationBusy, ex.ErrorId);
                Assert.Equal(ErrorCategory.ResourceBusy, ex.Category);
                // -WhatIf neither waits nor writes
                using (var w = RepairLedger.Open(Policy(State), true, _warnings.Add)) Assert.False(w.TryReserve("wg0", "x", out _));
            }
            using (var again = RepairLedger.Open(Policy(State), false, _warnings.Add)) Assert.True(again.TryReserve("wg0", "x", out _));
        }

        [Theory]
        [InlineData("{\"repairs\": [")]
        [InlineData("not a history")]
        [InlineData("{\"repairs\": [{\"interface\": \"wg0\", \"time\": \"yesterday-ish\"}]}")]
        [InlineData("")]
        public void ACorruptStateFileIsAnErrorNotASilentReset(string text)
        {
            File.WriteAllText(State, text);
            var ex = Assert.Throws<WgException>(() => RepairLedger.Open(Policy(State), false, _warnings.Add));
            Assert.Equal(ErrorIds.StateFileInvalid, ex.ErrorId);
            Assert.Equal(text, File.ReadAllText(State));
        }

        [Fact]
        public void AnEntryInTheFutureDoesNotBlockRepairsForever()
        {
            var future = DateTime.UtcNow.AddYears(1).ToString("o");
            File.WriteAllText(State, "{\"repairs\": [{\"interface\": \"wg0\", \"cause\": \"x\", \"time\": \"" + future + "\"}, {\"interface\": \"wg0\", \"cause\": \"y\", \"time\": \"" + future + "\"}, {\"interface\": \"wg0\", \"cause\": \"z\", \"time\": \"" + future + "\"}]}");
            using (var l = RepairLedger.Open(Policy(State), false, _warnings.Add))
                Assert.Equal(0, l.CountSince("wg0", DateTime.UtcNow.AddHours(-1)));
            Assert.Contains(_warnings, w => w.Contains("future"));
            Assert.DoesNotContain(future, File.ReadAllText(State));
        }

        [Fact]
        public void AStateFileThatIsAConfigOrThePolicyIsRefused()
        {
            var conf = Path.Combine(WgConfigLocation.ConfigDirectory, "wg0.conf");
            File.WriteAllText(conf, "[Interface]\nPrivateKey = x\n");
            var ex = Assert.Throws<WgPolicyException>(() => Policy(conf));
            Assert.Contains("configuration directory", ex.Message);
            var elsewhere = Path.Combine(_dir, "site.conf");
            File.WriteAllText(elsewhere, "[Interface]\nListenPort = 1\n");
            Assert.Throws<WgPolicyException>(() => Policy(elsewhere));
            Assert.Throws<WgPolicyException>(() => Policy(PolicyPath));
            Assert.Equal("[Interface]\nPrivateKey = x\n", File.ReadAllText(conf));
        }

        [Fact]
        public void AReportPathOverThePolicyTheStateOrAConfigIsRefused()
        {
            File.WriteAllText(PolicyPath, "interfaces: {}\n");
            var conf = Path.Combine(_dir, "x.conf");
            File.WriteAllText(conf, "[Peer]\n");
            Assert.Contains("policy", RepairLedger.ReportPathProblem(PolicyPath, PolicyPath, State));
            Assert.Contains("state file", RepairLedger.ReportPathProblem(State, PolicyPath, State));
            Assert.Contains("WireGuard configuration", RepairLedger.ReportPathProblem(conf, PolicyPath, State));
            Assert.Contains("configuration directory", RepairLedger.ReportPathProblem(Path.Combine(WgConfigLocation.ConfigDirectory, "r.yaml"), PolicyPath, State));
            Assert.Null(RepairLedger.ReportPathProblem(Path.Combine(_dir, "report.yaml"), PolicyPath, State));
            var link = Path.Combine(_dir, "sneaky.yaml");
            File.CreateSymbolicLink(link, PolicyPath);
            Assert.Contains("policy", RepairLedger.ReportPathProblem(link, PolicyPath, State));
        }
    }
}
