using System;
using System.Collections.Generic;

namespace WgTroubleshoot.Loading
{
    /// <summary>
    /// What the module needs from its third-party dependencies, implemented in WgTroubleshoot.Engine.dll (the only
    /// assembly that references them). Only this assembly's and the framework's types cross it, so nothing here
    /// depends on which copy of a dependency is loaded where.
    /// </summary>
    internal interface IDependencyEngine
    {
        /// <summary>The X25519 public key of a 32-byte private key (BouncyCastle).</summary>
        byte[] X25519PublicKey(byte[] privateKey);

        /// <summary>
        /// Parses one YAML document into a tree with the position of every node (YamlDotNet). Null for an empty
        /// document. Throws <see cref="YamlSyntaxException"/> for text that is not YAML, holds duplicate keys, or
        /// holds more than one document.
        /// </summary>
        YamlTreeNode ParseYaml(string text);

        /// <summary>
        /// Writes data made of dictionaries (string keys, insertion order kept), lists, strings, numbers, booleans,
        /// DateTimes and nulls as YAML, or as JSON when <paramref name="json"/> is true (YamlDotNet).
        /// </summary>
        string Serialize(object data, bool json);
    }

    /// <summary>The kind of a <see cref="YamlTreeNode"/>.</summary>
    internal enum YamlTreeKind { Scalar, Mapping, Sequence }

    /// <summary>A YAML node with its 1-based line and column, independent of the YAML library.</summary>
    internal sealed class YamlTreeNode
    {
        public YamlTreeKind Kind { get; set; }
        public int Line { get; set; }
        public int Column { get; set; }

        /// <summary>A scalar's text.</summary>
        public string Value { get; set; }

        /// <summary>True for a plain (unquoted, not block) scalar: only those can be null, booleans or numbers.</summary>
        public bool IsPlain { get; set; }

        /// <summary>A mapping's entries, in document order.</summary>
        public List<KeyValuePair<YamlTreeNode, YamlTreeNode>> Entries { get; } = new List<KeyValuePair<YamlTreeNode, YamlTreeNode>>();

        /// <summary>A sequence's items.</summary>
        public List<YamlTreeNode> Items { get; } = new List<YamlTreeNode>();

        /// <summary>True for a plain scalar that YAML reads as null ("", "~", "null").</summary>
        public bool IsNull => Kind == YamlTreeKind.Scalar && IsPlain && (Value == "" || Value == "~" || Value == "null" || Value == "Null" || Value == "NULL");
    }

    /// <summary>The text is not valid YAML; the position is where the YAML library stopped.</summary>
    internal sealed class YamlSyntaxException : Exception
    {
        public YamlSyntaxException(int line, int column, string problem, Exception inner = null) : base(problem, inner)
        {
            Line = line;
            Column = column;
            Problem = problem;
        }

        public int Line { get; }
        public int Column { get; }
        public string Problem { get; }
    }
}
