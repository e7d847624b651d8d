using System;
using System.Collections.Generic;
using System.Globalization;

namespace WgTroubleshoot
{
    /// <summary>Human formatting as `wg show` prints it; used by the format views and ToString().</summary>
    public static class Format
    {
        /// <summary>"1 minute, 12 seconds ago", "Now", or "(none)".</summary>
        public static string Age(TimeSpan? age)
        {
            if (!age.HasValue) return "(none)";
            var t = age.Value;
            if (t < TimeSpan.Zero) t = TimeSpan.Zero;
            long total = (long)t.TotalSeconds;
            if (total == 0) return "Now";
            var parts = new List<string>();
            void Add(long n, string unit) { if (n > 0) parts.Add(n + " " + unit + (n == 1 ? "" : "s")); }
            Add(total / (365L * 86400), "year");
            total %= 365L * 86400;
            Add(total / 86400, "day");
            total %= 86400;
            Add(total / 3600, "hour");
            total %= 3600;
            Add(total / 60, "minute");
            Add(total % 60, "second");
            return string.Join(", ", parts) + " ago";
        }

        /// <summary>"1.23 MiB" the way `wg show` prints transfer counters.</summary>
        public static string Bytes(long bytes)
        {
            var c = CultureInfo.InvariantCulture;
            if (bytes < 1024) return bytes.ToString(c) + " B";
            if (bytes < 1024L * 1024) return (bytes / 1024.0).ToString("0.00", c) + " KiB";
            if (bytes < 1024L * 1024 * 1024) return (bytes / (1024.0 * 1024)).ToString("0.00", c) + " MiB";
            if (bytes < 1024L * 1024 * 1024 * 1024) return (bytes / (1024.0 * 1024 * 1024)).ToString("0.00", c) + " GiB";
            return (bytes / (1024.0 * 1024 * 1024 * 1024)).ToString("0.00", c) + " TiB";
        }
    }
}
