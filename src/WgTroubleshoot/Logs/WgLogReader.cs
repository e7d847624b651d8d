using System;
using System.Collections.Generic;
using System.Globalization;
using System.IO;
using System.Linq;
using System.Management.Automation;
using WgTroubleshoot.Native;

namespace WgTroubleshoot.Logs
{
    /// <summary>
    /// Where WireGuard logs are read from: the journal (kernel messages and wireguard-go's own) when journald
    /// runs, else the kernel ring buffer through dmesg; or saved log files.
    /// </summary>
    public sealed class WgLogReader
    {
        public static readonly TimeSpan Timeout = TimeSpan.FromSeconds(30);
        private readonly INativeRunner _runner;
        private readonly Action<string> _verbose;

        public WgLogReader(INativeRunner runner, Action<string> verbose = null)
        {
            _runner = runner;
            _verbose = verbose;
        }

        /// <summary>For tests: the journald runtime directory whose presence means the journal is there.</summary>
        internal static string JournalRuntimeDirectory { get; set; } = "/run/systemd/journal";

        /// <summary>The events of a saved log file, with their file and line numbers.</summary>
        public static List<WgLogEvent> ReadFile(string path, DateTime? now = null)
        {
            var list = new List<WgLogEvent>();
            int n = 0;
            foreach (var line in File.ReadLines(path))
            {
                n++;
                var e = WgLogParser.Parse(line, now);
                if (e == null) continue;
                e.Path = path;
                e.LineNumber = n;
                list.Add(e);
            }
            return list;
        }

        /// <summary>The events of text read from a tool, line by line.</summary>
        public static List<WgLogEvent> ParseText(string text, DateTime? now = null)
        {
            var list = new List<WgLogEvent>();
            foreach (var line in text.Split('\n'))
            {
                var e = WgLogParser.Parse(line, now);
                if (e != null) list.Add(e);
            }
            return list;
        }

        public bool JournalAvailable => _runner.IsAvailable("journalctl") && Directory.Exists(JournalRuntimeDirectory);

        /// <summary>The source the system read used, for messages: "journal" or "dmesg".</summary>
        public string LastSource { get; private set; }

        /// <summary>Kernel and wireguard-go events of this host since <paramref name="since"/> (this boot when null).</summary>
        public List<WgLogEvent> ReadSystem(DateTime? since)
        {
            if (JournalAvailable)
            {
                var sinceArgs = since.HasValue
                    ? new[] { "--since", since.Value.ToLocalTime().ToString("yyyy-MM-dd HH:mm:ss", CultureInfo.InvariantCulture) }
                    : new[] { "-b" };
                var kernel = _runner.Run("journalctl", new[] { "-k", "-o", "short-iso", "--no-pager", "-q" }.Concat(sinceArgs), Timeout);
                if (kernel.Success && kernel.StdErr.IndexOf("No journal files were found", StringComparison.OrdinalIgnoreCase) < 0)
                {
                    var go = _runner.Run("journalctl", new[] { "-o", "short-iso", "--no-pager", "-q", "_COMM=wireguard-go" }.Concat(sinceArgs), Timeout);
                    var events = ParseText(kernel.StdOut);
                    if (go.Success) events.AddRange(ParseText(go.StdOut));
                    else _verbose?.Invoke("wireguard-go's journal entries were not read: " + go.StdErr.Trim());
                    LastSource = "journal";
                    return Filter(events, since);
                }
                if (!kernel.Success && NativeRunner.IsPermissionProblem(kernel.StdErr))
                    throw NativeRunner.ToError(kernel, "Reading the kernel journal");
                _verbose?.Invoke("The journal has no entries here; reading the kernel ring buffer with dmesg instead.");
            }
            var r = _runner.Run("dmesg", new[] { "--time-format", "iso" }, Timeout);
            if (!r.Success)
            {
                if (NativeRunner.IsPermissionProblem(r.StdErr))
                    throw new WgException(ErrorIds.PermissionDenied, ErrorCategory.PermissionDenied,
                        "Reading the kernel log needs root here (kernel.dmesg_restrict is set): run Get-WgLog as root, or read a saved log with -Path.", "dmesg");
                throw NativeRunner.ToError(r, "Reading the kernel log");
            }
            LastSource = "dmesg";
            return Filter(ParseText(r.StdOut), since);
        }

        /// <summary>Keeps events at or after <paramref name="since"/> (events without a time are kept) in time order.</summary>
        public static List<WgLogEvent> Filter(IEnumerable<WgLogEvent> events, DateTime? since)
        {
            var sinceUtc = since?.ToUniversalTime();
            return events
                .Where(e => !sinceUtc.HasValue || !e.Time.HasValue || e.Time.Value.ToUniversalTime() >= sinceUtc.Value)
                .Select((e, i) => new { e, i })
                .OrderBy(x => x.e.Time.HasValue ? x.e.Time.Value.ToUniversalTime() : DateTime.MinValue)
                .ThenBy(x => x.i)
                .Select(x => x.e)
                .ToList();
        }
    }
}
