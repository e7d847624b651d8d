using System;
using System.IO;
using Org.BouncyCastle.Crypto.Parameters;
using WgTroubleshoot.Loading;
using YamlDotNet.Core;
using YamlDotNet.RepresentationModel;

namespace WgTroubleshoot.Engine
{
    /// <summary>
    /// The module's adapter over BouncyCastle and YamlDotNet. Created by reflection by
    /// WgTroubleshoot.Loading.DependencyLoader in the module's own load context; only the module's and the
    /// framework's types leave it.
    /// </summary>
    public sealed class DependencyEngine : IDependencyEngine
    {
        /// <inheritdoc />
        byte[] IDependencyEngine.X25519PublicKey(byte[] privateKey)
        {
            var p = new X25519PrivateKeyParameters(privateKey, 0);
            return p.GeneratePublicKey().GetEncoded();
        }

        /// <inheritdoc />
        YamlTreeNode IDependencyEngine.ParseYaml(string text)
        {
            var stream = new YamlStream();
            var scanner = new Scanner(new StringReader(text ?? ""));
            try
            {
                stream.Load(new Parser(scanner));
            }
            catch (YamlException ex)
            {
                throw new YamlSyntaxException(ToInt(ex.Start.Line), ToInt(ex.Start.Column), Describe(ex), ex);
            }
            catch (InvalidOperationException ex)
            {
                // YamlDotNet throws this (not a YamlException) for some broken flow collections: report where its scanner stopped.
                var at = scanner.CurrentPosition;
                throw new YamlSyntaxException(ToInt(at.Line), ToInt(at.Column), "the text is not valid YAML here (an unclosed [ or { ?).", ex);
            }
            if (stream.Documents.Count == 0) return null;
            if (stream.Documents.Count > 1)
            {
                var second = stream.Documents[1].RootNode.Start;
                throw new YamlSyntaxException(ToInt(second.Line), ToInt(second.Column), "the file holds more than one YAML document; a policy is one document.");
            }
            return Convert(stream.Documents[0].RootNode);
        }

        /// <inheritdoc />
        string IDependencyEngine.Serialize(object data, bool json)
        {
            var builder = new YamlDotNet.Serialization.SerializerBuilder();
            if (json) builder = builder.JsonCompatible();
            return builder.Build().Serialize(data);
        }

        private static YamlTreeNode Convert(YamlNode node)
        {
            var result = new YamlTreeNode { Line = ToInt(node.Start.Line), Column = ToInt(node.Start.Column) };
            switch (node)
            {
                case YamlScalarNode scalar:
                    result.Kind = YamlTreeKind.Scalar;
                    result.Value = scalar.Value ?? "";
                    result.IsPlain = scalar.Style == ScalarStyle.Plain || scalar.Style == ScalarStyle.Any;
                    break;
                case YamlMappingNode map:
                    result.Kind = YamlTreeKind.Mapping;
                    foreach (var entry in map.Children)
                        result.Entries.Add(new System.Collections.Generic.KeyValuePair<YamlTreeNode, YamlTreeNode>(Convert(entry.Key), Convert(entry.Value)));
                    break;
                case YamlSequenceNode seq:
                    result.Kind = YamlTreeKind.Sequence;
                    foreach (var item in seq.Children) result.Items.Add(Convert(item));
                    break;
                default:
                    throw new YamlSyntaxException(result.Line, result.Column, $"unexpected YAML node ({node.NodeType}).");
            }
            return result;
        }

        private static string Describe(YamlException ex)
        {
            // YamlDotNet's messages start with "(Lin: 3, Col: 5, Chr: 20) - (...): "; the caller gives the position.
            var message = ex.Message ?? "the text is not valid YAML.";
            var cut = message.IndexOf("): ", StringComparison.Ordinal);
            if (message.StartsWith("(", StringComparison.Ordinal) && cut > 0) message = message.Substring(cut + 3);
            return message.Length == 0 ? "the text is not valid YAML." : char.ToLowerInvariant(message[0]) + message.Substring(1);
        }

        private static int ToInt(long value) => value > int.MaxValue ? int.MaxValue : (int)value;
    }
}
