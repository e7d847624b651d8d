using System;
using System.Diagnostics;
using System.IO;
using System.Management.Automation;
using System.Text;
using WgTroubleshoot.Remediation;
using Xunit;

namespace WgTroubleshoot.Tests.Remediation
{
    /// <summary>A hostile policy file is WgPolicyInvalid with a position, quickly and in bounded memory, never a crash.</summary>
    public class HostilePolicyTests
    {
        /// <summary>The 451-byte "billion laughs" of the issue: nine levels of nine aliases each.</summary>
        internal static string AliasBomb()
        {
            var sb = new StringBuilder("a: &a [\"lol\",\"lol\",\"lol\",\"lol\",\"lol\",\"lol\",\"lol\",\"lol\",\"lol\"]\n");
            for (char c = 'b'; c <= 'i'; c++)
            {
                var prev = (char)(c - 1);
                sb.Append(c).Append(": &").Append(c).Append(" [");
                for (int k = 0; k < 9; k++) sb.Append(k == 0 ? "" : ",").Append('*').Append(prev);
                sb.Append("]\n");
            }
            sb.Append("interfaces:\n  wg0:\n    allowedRepairs: *i\n");
            return sb.ToString();
        }

        private static WgPolicyException Invalid(string yaml, out TimeSpan took)
        {
            var sw = Stopwatch.StartNew();
            var ex = Assert.Throws<WgPolicyException>(() => RemediationPolicy.Parse(yaml, "/etc/wgt/policy.yaml"));
            took = sw.Elapsed;
            Assert.Equal(ErrorIds.PolicyInvalid, ex.ErrorId);
            Assert.Equal(ErrorCategory.InvalidData, ex.Category);
            Assert.True(ex.Line >= 1 && ex.Column >= 1);
            Assert.StartsWith($"/etc/wgt/policy.yaml, line {ex.Line}, column {ex.Column}: ", ex.Message);
            return ex;
        }

        [Fact]
        public void AnAliasBombIsRefusedQuickly()
        {
            var bomb = AliasBomb();
            Assert.InRange(Encoding.UTF8.GetByteCount(bomb), 300, 600);
            long before = GC.GetTotalMemory(true);
            var ex = Invalid(bomb, out var took);
            Assert.Contains("aliases", ex.Problem);
            Assert.True(took < TimeSpan.FromSeconds(5), "took " + took);
            Assert.True(GC.GetTotalMemory(false) - before < 200L * 1024 * 1024, "memory stays bounded");
        }

        [Theory]
        [InlineData("[")]
        [InlineData("{a: ")]
        [InlineData("- ")]
        public void DeepNestingIsRefusedWithoutAStackOverflow(string unit)
        {
            var sb = new StringBuilder();
            while (sb.Length < 200 * 1024) sb.Append(unit);
            var ex = Invalid(sb.ToString(), out var took);
            Assert.True(took < TimeSpan.FromSeconds(10), "took " + took);
            Assert.Contains("nested", ex.Problem);
        }

        [Fact]
        public void ModerateNestingStillParsesAsYaml()
        {
            // 40 levels is within the bound: it is rejected by the policy rules, not by the YAML limits
            var yaml = "interfaces:\n  wg0:\n    mtu: " + new string('[', 40) + new string(']', 40) + "\n";
            var ex = Invalid(yaml, out _);
            Assert.DoesNotContain("nested", ex.Problem);
        }

        [Fact]
        public void AnOversizedPolicyFileIsRefusedBeforeItIsRead()
        {
            var path = Path.Combine(Path.GetTempPath(), "wgz-big-" + Guid.NewGuid().ToString("N") + ".yaml");
            try
            {
                using (var f = File.Create(path)) f.SetLength(RemediationPolicy.MaxFileBytes + 1);
                var ex = Assert.Throws<WgPolicyException>(() => RemediationPolicy.Load(path));
                Assert.Equal(ErrorIds.PolicyInvalid, ex.ErrorId);
                Assert.Contains("1 MiB", ex.Message);
            }
            finally { File.Delete(path); }
        }

        [Fact]
        public void DuplicateKeysAndUnknownAliasesAreStillErrorsWithTheirPosition()
        {
            var dup = Invalid("interfaces:\n  wg0: {}\n  wg0: {}\n", out _);
            Assert.Equal(3, dup.Line);
            Assert.Contains("twice", dup.Problem);
            var alias = Invalid("interfaces:\n  wg0: *nope\n", out _);
            Assert.Equal(2, alias.Line);
        }

        [Fact]
        public void ASmallAliasIsFine()
        {
            var p = RemediationPolicy.Parse("interfaces:\n  wg0:\n    allowedRepairs: &r [Firewall, Mtu]\n  wg1:\n    allowedRepairs: *r\n");
            Assert.Equal(new[] { RepairKind.Firewall, RepairKind.Mtu }, p.ForInterface("wg1").AllowedRepairs);
        }
    }
}
