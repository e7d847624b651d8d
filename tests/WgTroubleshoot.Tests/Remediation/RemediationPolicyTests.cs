using System;
using System.IO;
using System.Management.Automation;
using WgTroubleshoot.Remediation;
using Xunit;

namespace WgTroubleshoot.Tests.Remediation
{
    public class RemediationPolicyTests
    {
        private const string Full = @"stateFile: /var/lib/wgtroubleshoot/state.json
report:
  format: json
interfaces:
  wg0:
    maxHandshakeAgeSeconds: 150
    mtu: auto
    forwarding: true
    nat: false
    firewallPort: 51820
    reresolveEndpoints: true
    allowedRepairs: [Firewall, Mtu, Forwarding, Nat, Endpoint]
    maxRepairsPerHour: 5
  wg1:
    mtu: 1412
";

        private static WgPolicyException Invalid(string yaml)
        {
            var ex = Assert.Throws<WgPolicyException>(() => RemediationPolicy.Parse(yaml, "/etc/wgt/policy.yaml"));
            Assert.Equal(ErrorIds.PolicyInvalid, ex.ErrorId);
            Assert.Equal(ErrorCategory.InvalidData, ex.Category);
            Assert.StartsWith($"/etc/wgt/policy.yaml, line {ex.Line}, column {ex.Column}: ", ex.Message);
            return ex;
        }

        [Fact]
        public void ReadsEverySetting()
        {
            var p = RemediationPolicy.Parse(Full);
            Assert.Equal("/var/lib/wgtroubleshoot/state.json", p.StateFile);
            Assert.Equal(PolicyReportFormat.Json, p.ReportFormat);
            Assert.Equal(new[] { "wg0", "wg1" }, new[] { p.Interfaces[0].Interface, p.Interfaces[1].Interface });
            var wg0 = p.ForInterface("wg0");
            Assert.Equal(150, wg0.MaxHandshakeAgeSeconds);
            Assert.True(wg0.MtuAuto);
            Assert.Null(wg0.Mtu);
            Assert.True(wg0.Forwarding);
            Assert.False(wg0.Nat);
            Assert.Equal(51820, wg0.FirewallPort);
            Assert.True(wg0.ReresolveEndpoints);
            Assert.Equal(new[] { RepairKind.Firewall, RepairKind.Mtu, RepairKind.Forwarding, RepairKind.Nat, RepairKind.Endpoint }, wg0.AllowedRepairs);
            Assert.Equal(5, wg0.MaxRepairsPerHour);
            Assert.True(wg0.Allows(RepairKind.Nat));
            Assert.Equal("wg0: repairs Firewall, Mtu, Forwarding, Nat, Endpoint (at most 5 an hour)", wg0.ToString());
        }

        [Fact]
        public void LeavesUnsetValuesAtTheirDefaults()
        {
            var p = RemediationPolicy.Parse(Full);
            var wg1 = p.ForInterface("wg1");
            Assert.Equal(1412, wg1.Mtu);
            Assert.False(wg1.MtuAuto);
            Assert.Equal(InterfacePolicy.DefaultMaxHandshakeAgeSeconds, wg1.MaxHandshakeAgeSeconds);
            Assert.Equal(InterfacePolicy.DefaultMaxRepairsPerHour, wg1.MaxRepairsPerHour);
            Assert.Null(wg1.Forwarding);
            Assert.Null(wg1.Nat);
            Assert.Null(wg1.FirewallPort);
            Assert.Null(wg1.ReresolveEndpoints); // not given: allowedRepairs decides
            Assert.Empty(wg1.AllowedRepairs);
            Assert.False(wg1.Allows(RepairKind.Mtu));
            Assert.Equal("wg1: report only", wg1.ToString());
            Assert.Null(p.ForInterface("wg9"));

            var minimal = RemediationPolicy.Parse("interfaces:\n  wg0:\n");
            Assert.Equal(PolicyReportFormat.Yaml, minimal.ReportFormat);
            Assert.Null(minimal.StateFile);
            Assert.Single(minimal.Interfaces);
        }

        [Fact]
        public void AcceptsFlowStyleQuotedKeysAliasesAndAnyCaseOfRepairNames()
        {
            var p = RemediationPolicy.Parse(
                "interfaces:\n" +
                "  wg0: &common { maxHandshakeAgeSeconds: 200, allowedRepairs: [firewall, NAT] }\n" +
                "  \"wg1\": *common\n" +
                "  'wg-home.1': {}\n");
            Assert.Equal(200, p.ForInterface("wg0").MaxHandshakeAgeSeconds);
            Assert.Equal(new[] { RepairKind.Firewall, RepairKind.Nat }, p.ForInterface("wg0").AllowedRepairs);
            Assert.Equal(200, p.ForInterface("wg1").MaxHandshakeAgeSeconds);
            Assert.NotNull(p.ForInterface("wg-home.1"));
        }

        [Fact]
        public void LoadsTheExamplePolicy()
        {
            var path = Path.Combine(AppContext.BaseDirectory, "remediation-policy.yaml");
            var p = RemediationPolicy.Load(path);
            Assert.Equal(path, p.Path);
            Assert.Equal(new[] { "wg0", "wg1" }, new[] { p.Interfaces[0].Interface, p.Interfaces[1].Interface });
            Assert.True(p.ForInterface("wg0").MtuAuto);
            Assert.Equal(1420, p.ForInterface("wg1").Mtu);
            Assert.Empty(p.ForInterface("wg1").AllowedRepairs);
        }

        [Fact]
        public void ResolvesARelativeStateFileAgainstThePolicyFolder()
        {
            var dir = Directory.CreateTempSubdirectory("wgt-policy-").FullName;
            try
            {
                var path = Path.Combine(dir, "policy.yaml");
                File.WriteAllText(path, "stateFile: state/history.json\ninterfaces:\n  wg0: {}\n");
                Assert.Equal(Path.Combine(dir, "state", "history.json"), RemediationPolicy.Load(path).StateFile);
            }
            finally
            {
                Directory.Delete(dir, true);
            }
        }

        [Fact]
        public void AMissingFileIsPolicyNotFound()
        {
            var ex = Assert.Throws<WgException>(() => RemediationPolicy.Load(Path.Combine(Path.GetTempPath(), "wgt-no-such-dir", "policy.yaml")));
            Assert.Equal(ErrorIds.PolicyNotFound, ex.ErrorId);
            Assert.Equal(ErrorCategory.ObjectNotFound, ex.Category);
        }

        [Theory]
        // Unknown keys, at each level, at the key's own position.
        [InlineData("interfaces:\n  wg0: {}\nstatefile: x\n", 3, 1, "unknown key 'statefile' at the top level: did you mean 'stateFile'?")]
        [InlineData("interfaces:\n  wg0:\n    mtu: auto\n    maxHandshakeAge: 180\n", 4, 5, "unknown key 'maxHandshakeAge' under interface 'wg0'")]
        [InlineData("interfaces:\n  wg0: {}\nreport:\n  format: json\n  path: /tmp/r\n", 5, 3, "unknown key 'path' under 'report'")]
        [InlineData("interface:\n  wg0: {}\n", 1, 1, "unknown key 'interface' at the top level")]
        // Values of the wrong kind or out of range, at the value's position.
        [InlineData("interfaces:\n  wg0:\n    mtu: big\n", 3, 10, "'mtu' must be auto or a whole number (576-65535), not 'big'")]
        [InlineData("interfaces:\n  wg0:\n    mtu: 100\n", 3, 10, "'mtu' must be between 576 and 65535, not 100")]
        [InlineData("interfaces:\n  wg0:\n    firewallPort: 70000\n", 3, 19, "'firewallPort' must be between 1 and 65535")]
        [InlineData("interfaces:\n  wg0:\n    firewallPort: '51820'\n", 3, 19, "'firewallPort' must be a whole number (1-65535), not the quoted text '51820'")]
        [InlineData("interfaces:\n  wg0:\n    forwarding: yes\n", 3, 17, "'forwarding' must be true or false, not 'yes'")]
        [InlineData("interfaces:\n  wg0:\n    nat: [true]\n", 3, 10, "'nat' must be true or false, not a list")]
        [InlineData("interfaces:\n  wg0:\n    maxRepairsPerHour: -1\n", 3, 24, "'maxRepairsPerHour' must be between 0 and 60")]
        [InlineData("interfaces:\n  wg0:\n    maxHandshakeAgeSeconds: 0\n", 3, 29, "'maxHandshakeAgeSeconds' must be between 1 and 86400")]
        [InlineData("interfaces:\n  wg0:\n    allowedRepairs: [Firewall, Reboot]\n", 3, 32, "unknown repair 'Reboot' in 'allowedRepairs'")]
        [InlineData("interfaces:\n  wg0:\n    allowedRepairs: [Mtu, mtu]\n", 3, 27, "repair Mtu is listed twice")]
        // NoKeepaliveBehindNat needs both ends in view: an unattended run never finds it, so a policy cannot allow it
        [InlineData("interfaces:\n  wg0:\n    allowedRepairs: [Keepalive]\n", 3, 22, "unknown repair 'Keepalive' in 'allowedRepairs'")]
        [InlineData("interfaces:\n  wg0:\n    allowedRepairs: Firewall\n", 3, 21, "'allowedRepairs' must be a list")]
        [InlineData("interfaces:\n  wg0: {}\nreport:\n  format: xml\n", 4, 11, "report format 'xml' is neither yaml nor json")]
        [InlineData("interfaces:\n  wg0: {}\nstateFile:\n", 3, 11, "'stateFile' must be a text value, not an empty value")]
        // Structure.
        [InlineData("interfaces:\n  'not an interface': {}\n", 2, 3, "'not an interface' is not an interface name")]
        [InlineData("interfaces:\n  wg0: 5\n", 2, 8, "the settings of interface 'wg0' must be a mapping")]
        [InlineData("interfaces: {}\n", 1, 13, "'interfaces' must map at least one interface name")]
        [InlineData("stateFile: /tmp/s\n", 1, 1, "the policy has no 'interfaces:' key")]
        [InlineData("- wg0\n- wg1\n", 1, 1, "the policy must be a mapping")]
        [InlineData("", 1, 1, "the policy is empty")]
        [InlineData("# only a comment\n", 1, 1, "the policy is empty")]
        public void RejectsAnInvalidPolicyWithTheLineAndColumn(string yaml, int line, int column, string problem)
        {
            var ex = Invalid(yaml);
            Assert.Equal(line, ex.Line);
            Assert.Equal(column, ex.Column);
            Assert.Contains(problem, ex.Problem);
            Assert.Equal("/etc/wgt/policy.yaml", ex.File);
        }

        [Theory]
        [InlineData("interfaces:\n  wg0:\n    mtu: auto\n   nat: true\n", 4)]        // bad indentation
        [InlineData("interfaces:\n  wg0: {mtu: auto\n", 3)]                       // unclosed flow mapping
        [InlineData("interfaces:\n  wg0:\n    allowedRepairs: [Firewall\n    mtu: nope\n", 4)] // unclosed flow sequence (YamlDotNet throws InvalidOperationException)
        [InlineData("interfaces:\n  wg0: {}\n  wg0: {}\n", 3)]                    // duplicate key
        [InlineData("interfaces:\n  wg0: \"open\n", 2)]                           // unclosed quote: where it opens
        [InlineData("interfaces:\n  wg0: {}\n---\ninterfaces:\n  wg1: {}\n", 4)]  // two documents
        public void RejectsTextThatIsNotOneYamlDocumentWithItsPosition(string yaml, int line)
        {
            var ex = Invalid(yaml);
            Assert.Equal(line, ex.Line);
            Assert.True(ex.Column >= 1);
            Assert.False(string.IsNullOrWhiteSpace(ex.Problem));
            Assert.DoesNotContain("(Lin:", ex.Problem);
        }

        [Fact]
        public void TheErrorRecordCarriesTheErrorIdCategoryAndFile()
        {
            var ex = Invalid("interfaces:\n  wg0:\n    mtu: huge\n");
            var record = ex.ToErrorRecord();
            Assert.Equal("WgPolicyInvalid", record.FullyQualifiedErrorId);
            Assert.Equal(ErrorCategory.InvalidData, record.CategoryInfo.Category);
            Assert.Equal("/etc/wgt/policy.yaml", record.TargetObject);
            Assert.Equal("/etc/wgt/policy.yaml, line 3, column 10: 'mtu' must be auto or a whole number (576-65535), not 'huge'.", ex.Message);
        }
    }
}
