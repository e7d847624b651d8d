using System;
using System.Collections.Generic;
using System.Globalization;
using System.Linq;
using System.Text.RegularExpressions;
using WgTroubleshoot.Diagnosis;

namespace WgTroubleshoot.Remoting
{
    /// <summary>
    /// The data of a repair sent to another host: the findings as JSON one way, the repair results (and the
    /// warnings of the run) as JSON back. Both directions are read as untrusted input: only the known fields,
    /// each of its type and bounded in size; anything else refuses the whole message before anything runs.
    /// </summary>
    public static class RemoteRepair
    {
        public const int MaxFindings = 64;
        private const int MaxText = 4096;
        private const int MaxData = 32;
        private const int MaxDataText = 512;
        private const int MaxResults = 256;
        private const int MaxList = 256;

        private static readonly Regex Word = new Regex(@"^[A-Za-z][A-Za-z0-9]{0,63}$", RegexOptions.CultureInvariant);
        private static readonly string[] FindingFields = { "Id", "Severity", "Cause", "Interface", "Peer", "Remediation", "CanRepair", "RepairData" };

        public static string FindingsToJson(IEnumerable<FindingRef> findings)
            => MiniJson.Write(findings.Select(f => (object)new Dictionary<string, object>
            {
                ["Id"] = f.Id, ["Severity"] = f.Severity, ["Cause"] = f.Cause, ["Interface"] = f.Interface, ["Peer"] = f.Peer,
                ["Remediation"] = f.Remediation, ["CanRepair"] = f.CanRepair, ["RepairData"] = (f.RepairData ?? new string[0]).ToList(),
            }).ToList());

        /// <summary>The findings of a repair request; <see cref="ArgumentException"/> when the text is not exactly that.</summary>
        public static List<FindingRef> FindingsFromJson(string json)
        {
            object parsed;
            try { parsed = MiniJson.Parse(json); }
            catch (FormatException ex) { throw new ArgumentException("The findings are not valid JSON: " + ex.Message, nameof(json)); }
            if (!(parsed is List<object> list)) throw new ArgumentException("The findings must be a JSON array.", nameof(json));
            if (list.Count == 0 || list.Count > MaxFindings) throw new ArgumentException($"1 to {MaxFindings} findings are repaired at once, not {list.Count}.", nameof(json));
            var result = new List<FindingRef>();
            foreach (var item in list)
            {
                if (!(item is Dictionary<string, object> d)) throw new ArgumentException("A finding is not a JSON object.", nameof(json));
                foreach (var k in d.Keys)
                    if (Array.IndexOf(FindingFields, k) < 0) throw new ArgumentException("A finding has a field that is not one of " + string.Join(", ", FindingFields) + ".", nameof(json));
                var f = new FindingRef
                {
                    Id = Text(d, "Id", MaxText), Severity = Text(d, "Severity", 16), Cause = Text(d, "Cause", 64), Interface = Text(d, "Interface", 15),
                    Peer = Text(d, "Peer", 64), Remediation = Text(d, "Remediation", MaxText),
                };
                if (f.Cause == null || !Word.IsMatch(f.Cause)) throw new ArgumentException("A finding has no Cause, or one that is not a name.", nameof(json));
                if (f.Severity != null && !Word.IsMatch(f.Severity)) throw new ArgumentException("A finding has a Severity that is not a name.", nameof(json));
                if (f.Interface == null) throw new ArgumentException("A finding has no Interface.", nameof(json));
                RemoteEndpoint.Validate(f.Interface, allowEmpty: false);
                if (f.Peer != null && !Keys.WgKey.IsValid(f.Peer)) throw new ArgumentException("A finding has a Peer that is not a WireGuard public key.", nameof(json));
                if (d.TryGetValue("CanRepair", out var can) && can != null && !(can is bool)) throw new ArgumentException("CanRepair must be true or false.", nameof(json));
                f.CanRepair = can is bool b && b;
                var data = new List<string>();
                if (d.TryGetValue("RepairData", out var rd) && rd != null)
                {
                    if (!(rd is List<object> rl) || rl.Count > MaxData) throw new ArgumentException($"RepairData must be an array of at most {MaxData} strings.", nameof(json));
                    foreach (var x in rl)
                    {
                        if (!(x is string s) || s.Length > MaxDataText || s.Any(char.IsControl)) throw new ArgumentException($"A RepairData item is not a string of at most {MaxDataText} characters.", nameof(json));
                        data.Add(s);
                    }
                }
                f.RepairData = data.ToArray();
                result.Add(f);
            }
            return result;
        }

        public static string ResultsToJson(IEnumerable<RepairResult> results, IEnumerable<string> warnings)
            => MiniJson.Write(new Dictionary<string, object>
            {
                ["Results"] = results.Select(r => (object)new Dictionary<string, object>
                {
                    ["FindingId"] = r.FindingId, ["Cause"] = r.Cause, ["Interface"] = r.Interface, ["Peer"] = r.Peer, ["Action"] = r.Action,
                    ["Changed"] = r.Changed, ["Verified"] = r.Verified, ["RolledBack"] = r.RolledBack, ["RollbackRefused"] = r.RollbackRefused.ToList(),
                    ["Before"] = r.Before, ["After"] = r.After, ["Error"] = r.Error, ["UndoCommands"] = r.UndoCommands.ToList(),
                    ["Changes"] = r.Changes.Select(c => (object)new Dictionary<string, object>
                    {
                        ["Target"] = c.Target, ["Action"] = c.Action, ["Changed"] = c.Changed, ["Before"] = c.Before, ["After"] = c.After,
                        ["UndoCommands"] = c.UndoCommands.ToList(), ["Commands"] = c.Commands.ToList(), ["Notes"] = c.Notes.ToList(),
                        ["Timestamp"] = c.Timestamp.ToUniversalTime().ToString("o", CultureInfo.InvariantCulture),
                    }).ToList(),
                }).ToList(),
                ["Warnings"] = warnings.ToList(),
            });

        /// <summary>The answer of the other host; <see cref="FormatException"/> when it is not the module's answer.</summary>
        public static List<RepairResult> ResultsFromJson(string json, out List<string> warnings)
        {
            var d = MiniJson.Parse(json) as Dictionary<string, object> ?? throw new FormatException("the answer is not a JSON object");
            warnings = Texts(d, "Warnings");
            var list = d.TryGetValue("Results", out var rv) && rv is List<object> l ? l : throw new FormatException("the answer has no Results");
            if (list.Count > MaxResults) throw new FormatException("the answer has too many results");
            var results = new List<RepairResult>();
            foreach (var o in list)
            {
                var r = o as Dictionary<string, object> ?? throw new FormatException("a result is not an object");
                var changes = r.TryGetValue("Changes", out var cv) && cv is List<object> cl ? cl : new List<object>();
                if (changes.Count > MaxList) throw new FormatException("a result has too many changes");
                results.Add(new RepairResult
                {
                    FindingId = Text(r, "FindingId"), Cause = Text(r, "Cause"), Interface = Text(r, "Interface"), Peer = Text(r, "Peer"), Action = Text(r, "Action"),
                    Changed = Bool(r, "Changed"), Verified = Bool(r, "Verified"), RolledBack = Bool(r, "RolledBack"), RollbackRefused = Texts(r, "RollbackRefused").ToArray(),
                    Before = Text(r, "Before"), After = Text(r, "After"), Error = Text(r, "Error"), UndoCommands = Texts(r, "UndoCommands").ToArray(),
                    Changes = changes.Select(x => x as Dictionary<string, object> ?? throw new FormatException("a change is not an object")).Select(c => new ChangeRecord
                    {
                        Target = Text(c, "Target"), Action = Text(c, "Action"), Changed = Bool(c, "Changed"), Before = Text(c, "Before"), After = Text(c, "After"),
                        UndoCommands = Texts(c, "UndoCommands").ToArray(), Commands = Texts(c, "Commands").ToArray(), Notes = Texts(c, "Notes").ToArray(),
                        Timestamp = DateTime.TryParse(Text(c, "Timestamp"), CultureInfo.InvariantCulture, DateTimeStyles.RoundtripKind, out var t) ? t : DateTime.MinValue,
                    }).ToArray(),
                });
            }
            return results;
        }

        private static string Text(Dictionary<string, object> d, string k, int max = MaxText * 4)
        {
            if (!d.TryGetValue(k, out var v) || v == null) return null;
            if (!(v is string s)) throw new ArgumentException($"{k} must be a string.");
            if (s.Length > max) throw new ArgumentException($"{k} is longer than {max} characters.");
            return s;
        }

        private static bool Bool(Dictionary<string, object> d, string k) => d.TryGetValue(k, out var v) && v is bool b && b;

        private static List<string> Texts(Dictionary<string, object> d, string k)
        {
            if (!d.TryGetValue(k, out var v) || v == null) return new List<string>();
            if (!(v is List<object> l) || l.Count > MaxList) throw new FormatException($"{k} is not a list of at most {MaxList} strings");
            return l.Select(x => x as string ?? throw new FormatException($"{k} holds something that is not a string")).ToList();
        }
    }
}
