using System;
using System.IO;
using System.Linq;
using System.Text.RegularExpressions;
using Xunit;

namespace WgTroubleshoot.Tests.Errors
{
    /// <summary>Every Cause a finding can carry has exactly one row in the Cause table of about_WgTroubleshoot.</summary>
    public class CauseDocTests
    {
        private static string RepoRoot()
        {
            var d = new DirectoryInfo(AppContext.BaseDirectory);
            while (d != null && !File.Exists(Path.Combine(d.FullName, "WgTroubleshoot.sln"))) d = d.Parent;
            Assert.NotNull(d);
            return d.FullName;
        }

        [Fact]
        public void Every_cause_has_one_row()
        {
            var doc = File.ReadAllText(Path.Combine(RepoRoot(), "docs", "about_WgTroubleshoot.md"));
            int start = doc.IndexOf("| Cause | Meaning |", StringComparison.Ordinal);
            Assert.True(start >= 0, "the Cause table is missing");
            var table = string.Join("\n", doc.Substring(start).Split('\n').TakeWhile(l => l.StartsWith("|", StringComparison.Ordinal)));
            var rows = Regex.Matches(table, @"^\| ([A-Za-z]+) \|", RegexOptions.Multiline).Cast<Match>().Select(m => m.Groups[1].Value).Where(n => n != "Cause").ToList();
            foreach (var c in Enum.GetNames(typeof(Cause)).Where(n => n != nameof(Cause.None)))
                Assert.True(rows.Count(r => r == c) == 1, $"{c}: {rows.Count(r => r == c)} rows in the Cause table of about_WgTroubleshoot (one expected)");
            foreach (var r in rows) Assert.True(Enum.IsDefined(typeof(Cause), r), r + " is documented but is no Cause");
        }

        /// <summary>Every cause the RemedyCatalog can repair has exactly one row in the repair table, naming its allowedRepairs kind; every cause there is repairable.</summary>
        [Fact]
        public void Every_repairable_cause_has_one_row_in_the_repair_table()
        {
            var doc = File.ReadAllText(Path.Combine(RepoRoot(), "docs", "about_WgTroubleshoot.md"));
            int start = doc.IndexOf("| Cause | Remedy | allowedRepairs | RepairData |", StringComparison.Ordinal);
            Assert.True(start >= 0, "the repair table is missing");
            var rows = doc.Substring(start).Split('\n').TakeWhile(l => l.StartsWith("|", StringComparison.Ordinal)).Skip(2)
                .Select(l => l.Split('|').Select(c => c.Trim()).ToArray()).ToList();
            var documented = rows.SelectMany(r => r[1].Split(',').Select(c => (Cause: c.Trim(), Policy: r[3]))).ToList();
            var repairable = WgTroubleshoot.Remedies.RemedyCatalog.RepairableCauses.ToList();
            Assert.NotEmpty(repairable);
            foreach (var c in repairable)
            {
                var mine = documented.Where(d => d.Cause == c).ToList();
                Assert.True(mine.Count == 1, $"{c}: {mine.Count} rows in the repair table of about_WgTroubleshoot (one expected)");
                var kind = WgTroubleshoot.Remedies.RemedyCatalog.KindFor(c).ToString();
                Assert.True(mine[0].Policy.IndexOf(kind, StringComparison.OrdinalIgnoreCase) >= 0, $"{c}: the allowedRepairs column '{mine[0].Policy}' does not name {kind}");
            }
            foreach (var d in documented) Assert.True(repairable.Contains(d.Cause), d.Cause + " is in the repair table but RemedyCatalog cannot repair it");
        }
    }
}
