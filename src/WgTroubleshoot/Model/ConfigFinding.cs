namespace WgTroubleshoot
{
    /// <summary>
    /// One problem found in a configuration file by Test-WgConfig or Compare-WgPeerConfig. The Id is stable
    /// (WG1xxx: one file, WG2xxx: two ends compared); Fix is the line to write or the command to run.
    /// Private and preshared keys never appear in any property.
    /// </summary>
    public sealed class ConfigFinding
    {
        /// <summary>The stable rule Id, for example WG1004.</summary>
        public string Id { get; set; }

        /// <summary>Error: the tunnel cannot work as written; Warning: probably wrong; Info: worth knowing.</summary>
        public string Severity { get; set; }

        /// <summary>The documented cause the finding is evidence of (None when it is not one of them).</summary>
        public string Cause { get; set; }

        /// <summary>What is wrong and why it matters.</summary>
        public string Message { get; set; }

        /// <summary>The configuration file.</summary>
        public string File { get; set; }

        /// <summary>The 1-based line the finding is about; null when it is about the whole file.</summary>
        public int? Line { get; set; }

        /// <summary>The concrete fix: the exact line to write, or the command to run.</summary>
        public string Fix { get; set; }

        /// <summary>The interface the file configures (wg0 for wg0.conf).</summary>
        public string Interface { get; set; }

        /// <summary>The public key of the [Peer] concerned; null for the [Interface] section or the whole file.</summary>
        public string Peer { get; set; }

        /// <summary>
        /// When one finding stands for several of the same kind (one peer with 1,000 prefixes that are not host
        /// routes), every one of them, in file order; the Message names the count and the first few.
        /// </summary>
        public string[] Items { get; set; } = System.Array.Empty<string>();

        /// <summary>The 1-based lines of <see cref="Items"/>, in the same order (empty for a single finding).</summary>
        public int[] Lines { get; set; } = System.Array.Empty<int>();

        /// <summary>
        /// When one finding stands for several peers that share it (10,000 clients without PersistentKeepalive), the
        /// public key of every one of them, in file order; <see cref="Peer"/> is then null, and the Message names the
        /// count and the first few. Empty for a finding about one peer or none.
        /// </summary>
        public string[] Peers { get; set; } = System.Array.Empty<string>();

        /// <summary>"wg0.conf:12: WG1006 Error: ...".</summary>
        public override string ToString()
            => $"{System.IO.Path.GetFileName(File ?? string.Empty)}{(Line.HasValue ? ":" + Line.Value : string.Empty)}: {Id} {Severity}: {Message}";
    }
}
