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
    }
}
