using System;
using System.Collections.Generic;
using System.IO;
using System.Linq;
using System.Text.RegularExpressions;
using Xunit;

namespace WgTroubleshoot.Tests.Errors
{
    /// <summary>A finding id (WGDnnn) names one cause: suppressions and scripts select findings by it.</summary>
    public sealed class FindingIdTests
    {
        [Fact]
        public void Every_finding_id_belongs_to_one_cause()
        {
            var dir = new DirectoryInfo(AppContext.BaseDirectory);
            while (dir != null && !Directory.Exists(Path.Combine(dir.FullName, "src", "WgTroubleshoot"))) dir = dir.Parent;
            Assert.True(dir != null, "the repository root was not found above " + AppContext.BaseDirectory);
            var site = new Regex(@"""(WGD\d{3})""[^;\n]*?Cause\.(\w+)", RegexOptions.CultureInvariant);
            var causes = new Dictionary<string, HashSet<string>>(StringComparer.Ordinal);
            int sites = 0;
            foreach (var file in Directory.EnumerateFiles(Path.Combine(dir.FullName, "src", "WgTroubleshoot"), "*.cs", SearchOption.AllDirectories))
            {
                if (file.Contains(Path.DirectorySeparatorChar + "obj" + Path.DirectorySeparatorChar)) continue;
                foreach (Match m in site.Matches(File.ReadAllText(file)))
                {
                    sites++;
                    if (!causes.TryGetValue(m.Groups[1].Value, out var set)) causes[m.Groups[1].Value] = set = new HashSet<string>(StringComparer.Ordinal);
                    set.Add(m.Groups[2].Value);
                }
            }
            Assert.True(sites > 20, $"only {sites} finding sites were found: the pattern no longer matches the code");
            var shared = causes.Where(kv => kv.Value.Count > 1).Select(kv => kv.Key + ": " + string.Join(", ", kv.Value.OrderBy(x => x))).ToList();
            Assert.True(shared.Count == 0, "finding ids used for more than one cause: " + string.Join("; ", shared));
        }
    }
}
