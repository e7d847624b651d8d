using System;
using System.Collections.Generic;
using System.Globalization;
using System.IO;
using System.Linq;

namespace WgTroubleshoot.Forwarding
{
    /// <summary>Where a persistent sysctl value comes from.</summary>
    public sealed class SysctlSetting
    {
        public string Key { get; set; }
        public string Value { get; set; }
        public string File { get; set; }
        public int Line { get; set; }
        public override string ToString() => $"{Key} = {Value} ({File}:{Line})";
    }

    /// <summary>
    /// Runtime sysctls (/proc/sys of this network namespace) and the persistent ones as `sysctl --system`
    /// applies them: *.conf in /etc/sysctl.d, /run/sysctl.d, /usr/local/lib/sysctl.d, /usr/lib/sysctl.d,
    /// /lib/sysctl.d (one file per name, the first directory wins; files in name order), then
    /// /etc/sysctl.conf; the last assignment wins.
    /// </summary>
    public sealed class SysctlSettings
    {
        /// <summary>The file Enable-WgForwarding writes.</summary>
        public const string OwnFileName = "99-wgtroubleshoot.conf";

        public SysctlSettings(string root = null, string procSys = null)
        {
            Root = root ?? Environment.GetEnvironmentVariable("WGT_SYSCTL_ROOT") ?? "";
            ProcSys = procSys ?? "/proc/sys";
        }

        /// <summary>A prefix for every configuration path (tests and labs point it at a directory of their own). Empty: the real /.</summary>
        public string Root { get; }
        public string ProcSys { get; }

        private string P(string path) => Root.Length == 0 ? path : Path.Combine(Root, path.TrimStart('/'));

        public IEnumerable<string> Directories => new[] { "/etc/sysctl.d", "/run/sysctl.d", "/usr/local/lib/sysctl.d", "/usr/lib/sysctl.d", "/lib/sysctl.d" }.Select(P);
        public string SysctlConf => P("/etc/sysctl.conf");
        /// <summary>The directory persistent settings are written to.</summary>
        public string WriteDirectory => P("/etc/sysctl.d");
        public string OwnFile => Path.Combine(WriteDirectory, OwnFileName);

        /// <summary>The runtime value from /proc/sys; null when the key does not exist (no IPv6, other OS).</summary>
        public string ReadRuntime(string key)
        {
            var path = Path.Combine(ProcSys, key.Replace('.', '/'));
            try { return File.Exists(path) ? File.ReadAllText(path).Trim() : null; }
            catch (IOException) { return null; }
            catch (UnauthorizedAccessException) { return null; }
        }

        /// <summary>The files in the order sysctl --system reads them.</summary>
        public List<string> FilesInOrder()
        {
            var byName = new SortedDictionary<string, string>(StringComparer.Ordinal);
            foreach (var dir in Directories)
            {
                if (!Directory.Exists(dir)) continue;
                foreach (var f in Directory.GetFiles(dir, "*.conf"))
                {
                    var name = Path.GetFileName(f);
                    if (!byName.ContainsKey(name)) byName[name] = f;
                }
            }
            var files = byName.Values.ToList();
            if (File.Exists(SysctlConf)) files.Add(SysctlConf);
            return files;
        }

        /// <summary>The persistent setting of <paramref name="key"/> that wins; null when no file sets it.</summary>
        public SysctlSetting ReadPersistent(string key)
        {
            SysctlSetting last = null;
            foreach (var f in FilesInOrder())
            {
                string[] lines;
                try { lines = File.ReadAllLines(f); }
                catch (IOException) { continue; }
                catch (UnauthorizedAccessException) { continue; }
                for (int i = 0; i < lines.Length; i++)
                {
                    if (TryParseLine(lines[i], out var k, out var v) && k == key)
                        last = new SysctlSetting { Key = k, Value = v, File = f, Line = i + 1 };
                }
            }
            return last;
        }

        /// <summary>"net.ipv4.ip_forward = 1", "net/ipv4/ip_forward=1", "-net.ipv4.ip_forward = 1"; # and ; comments.</summary>
        public static bool TryParseLine(string line, out string key, out string value)
        {
            key = value = null;
            var s = line.Trim();
            if (s.Length == 0 || s[0] == '#' || s[0] == ';') return false;
            int eq = s.IndexOf('=');
            if (eq <= 0) return false;
            key = s.Substring(0, eq).Trim().TrimStart('-').Replace('/', '.');
            value = s.Substring(eq + 1).Trim();
            return key.Length > 0;
        }

        /// <summary>The text of our file with <paramref name="settings"/> set (other lines kept, keys replaced in place or appended).</summary>
        public static string WithSettings(string existing, IDictionary<string, string> settings, IEnumerable<string> remove = null)
        {
            var lines = string.IsNullOrEmpty(existing)
                ? new List<string> { "# Written by WgTroubleshoot (Enable-WgForwarding). Applied at boot by sysctl --system / systemd-sysctl." }
                : existing.Replace("\r\n", "\n").TrimEnd('\n').Split('\n').ToList();
            var todo = new Dictionary<string, string>(settings ?? new Dictionary<string, string>(), StringComparer.Ordinal);
            var drop = new HashSet<string>(remove ?? Enumerable.Empty<string>(), StringComparer.Ordinal);
            for (int i = 0; i < lines.Count; i++)
            {
                if (!TryParseLine(lines[i], out var k, out _)) continue;
                if (drop.Contains(k)) { lines.RemoveAt(i); i--; continue; }
                if (todo.TryGetValue(k, out var v)) { lines[i] = k + " = " + v; todo.Remove(k); }
            }
            foreach (var kv in settings ?? new Dictionary<string, string>())
                if (todo.ContainsKey(kv.Key)) lines.Add(kv.Key + " = " + kv.Value);
            return string.Join("\n", lines) + "\n";
        }

        /// <summary>True when the text sets no key at all (only comments).</summary>
        public static bool IsEmpty(string text)
            => (text ?? "").Split('\n').All(l => !TryParseLine(l, out _, out _));

        public static bool IsOn(string value) => value != null && int.TryParse(value, NumberStyles.Integer, CultureInfo.InvariantCulture, out var n) && n != 0;
    }
}
