using System;
using System.Collections.Generic;
using System.IO;
using System.Linq;
using System.Management.Automation;
using System.Reflection;
using System.Text.RegularExpressions;
using Xunit;

namespace WgTroubleshoot.Tests.Errors
{
    /// <summary>ErrorIds and categories come from one table; every throw site and about_WgTroubleshoot agree with it.</summary>
    public sealed class ErrorIdTableTests
    {
        private static string RepoRoot()
        {
            var dir = new DirectoryInfo(AppContext.BaseDirectory);
            while (dir != null && !Directory.Exists(Path.Combine(dir.FullName, "src", "WgTroubleshoot"))) dir = dir.Parent;
            Assert.True(dir != null, "the repository root (with src/WgTroubleshoot) was not found above " + AppContext.BaseDirectory);
            return dir.FullName;
        }

        private static Dictionary<string, string> ConstantsByName()
            => typeof(ErrorIds).GetFields(BindingFlags.Public | BindingFlags.Static)
                .Where(f => f.IsLiteral && f.FieldType == typeof(string))
                .ToDictionary(f => f.Name, f => (string)f.GetRawConstantValue());

        [Fact]
        public void Every_ErrorId_has_a_category_in_the_table()
        {
            var ids = ConstantsByName().Values.ToList();
            Assert.NotEmpty(ids);
            foreach (var id in ids) Assert.True(ErrorIds.Categories.ContainsKey(id), id + " is not in ErrorIds.Categories");
            Assert.Equal(ids.Count, ErrorIds.Categories.Count);
        }

        [Fact]
        public void The_table_is_what_about_WgTroubleshoot_documents()
        {
            var doc = File.ReadAllText(Path.Combine(RepoRoot(), "docs", "about_WgTroubleshoot.md"));
            var documented = Regex.Matches(doc, @"^\| (Wg[A-Za-z]+) \| ([A-Za-z]+) \|", RegexOptions.Multiline)
                .Cast<Match>().ToDictionary(m => m.Groups[1].Value, m => m.Groups[2].Value);
            Assert.NotEmpty(documented);
            foreach (var kv in ErrorIds.Categories)
            {
                Assert.True(documented.ContainsKey(kv.Key), kv.Key + " is not documented in about_WgTroubleshoot");
                Assert.Equal(kv.Value.ToString(), documented[kv.Key]);
            }
            foreach (var id in documented.Keys) Assert.True(ErrorIds.Categories.ContainsKey(id), id + " is documented but not in the table");
        }

        [Fact]
        public void Every_throw_site_uses_a_table_id_with_its_documented_category()
        {
            var names = ConstantsByName();
            var src = Path.Combine(RepoRoot(), "src");
            var files = Directory.GetFiles(src, "*.cs", SearchOption.AllDirectories)
                .Where(f => !f.Contains(Path.DirectorySeparatorChar + "obj" + Path.DirectorySeparatorChar) && !f.Contains(Path.DirectorySeparatorChar + "bin" + Path.DirectorySeparatorChar)).ToList();
            var idRef = new Regex(@"ErrorIds\.(\w+)");
            var catRef = new Regex(@"ErrorCategory\.(\w+)");
            int sites = 0;
            var problems = new List<string>();
            foreach (var f in files)
            {
                var text = File.ReadAllText(f);
                foreach (Match m in Regex.Matches(text, @"new WgException\("))
                {
                    // The first two arguments: split at top-level commas of the argument list.
                    var args = Arguments(text, m.Index + m.Length, 2);
                    if (args.Count < 2) continue;
                    var line = text.Substring(0, m.Index).Count(c => c == '\n') + 1;
                    var where = Path.GetRelativePath(src, f) + ":" + line;
                    var ids = idRef.Matches(args[0]).Cast<Match>().Select(x => x.Groups[1].Value).ToList();
                    var cats = catRef.Matches(args[1]).Cast<Match>().Select(x => x.Groups[1].Value).ToList();
                    sites++;
                    if (ids.Count == 0)
                    {
                        // Re-thrown from another WgException (error.ErrorId, error.Category): the constructor applies the table.
                        if (!Regex.IsMatch(args[0], @"^\s*\w+\.ErrorId\s*$")) problems.Add(where + ": the ErrorId is not an ErrorIds constant: " + args[0].Trim());
                        continue;
                    }
                    if (cats.Count == 0 && args[1].Trim().StartsWith("$\"")) cats = null; // the (id, message) constructor: category from the table
                    for (int i = 0; i < ids.Count; i++)
                    {
                        if (!names.TryGetValue(ids[i], out var id)) { problems.Add(where + ": unknown ErrorIds." + ids[i]); continue; }
                        if (cats == null) continue;
                        if (cats.Count != ids.Count) { problems.Add(where + ": ids and categories do not pair up"); break; }
                        var want = ErrorIds.Categories[id].ToString();
                        if (cats[i] != want) problems.Add($"{where}: {id} thrown as {cats[i]}, documented as {want}");
                    }
                }
            }
            Assert.True(sites > 50, "only " + sites + " throw sites found: the scan is broken");
            Assert.True(problems.Count == 0, string.Join("\n", problems));
        }

        [Fact]
        public void The_constructor_applies_the_table()
        {
            var ex = new WgException(ErrorIds.ConfigWriteFailed, ErrorCategory.ResourceBusy, "busy");
            Assert.Equal(ErrorCategory.WriteError, ex.Category);
            Assert.Equal(ErrorCategory.PermissionDenied, new WgException(ErrorIds.PermissionDenied, "no").Category);
        }

        private static List<string> Arguments(string text, int start, int count)
        {
            var result = new List<string>();
            int depth = 0, from = start;
            bool inString = false;
            for (int i = start; i < text.Length && result.Count < count; i++)
            {
                char c = text[i];
                if (inString) { if (c == '\\') i++; else if (c == '"') inString = false; continue; }
                if (c == '"') { inString = true; continue; }
                if (c == '(' || c == '[' || c == '{') depth++;
                else if (c == ')' || c == ']' || c == '}') { if (depth == 0) { result.Add(text.Substring(from, i - from)); break; } depth--; }
                else if (c == ',' && depth == 0) { result.Add(text.Substring(from, i - from)); from = i + 1; }
            }
            return result;
        }
    }
}
