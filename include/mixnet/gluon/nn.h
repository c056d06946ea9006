/*!
 * \file nn.h
 * \brief Gluon neural-network layers (mx.gluon.nn, plus gluon.contrib.nn's Identity and
 * Concurrent), in namespace mixnet::gluon::nn.
 *
 *   namespace nn = mixnet::gluon::nn;
 *   auto net = std::make_shared<nn::HybridSequential>();
 *   {
 *     gluon::BlockScope scope(net.get());              // with net.name_scope():
 *     net->Add({std::make_shared<nn::Conv2D>(8, std::vector<int>{3}),
 *               std::make_shared<nn::BatchNorm>(),
 *               std::make_shared<nn::Activation>("relu"),
 *               std::make_shared<nn::GlobalAvgPool2D>(),
 *               std::make_shared<nn::Dense>(10)});     // braces: named in order
 *   }
 *   net->Initialize(std::make_shared<init::Xavier>());
 *   net->Hybridize();
 *   NDArray y = (*net)(x);                              // x: (N, C, H, W)
 */
#pragma once

#include "mixnet/gluon/nn/activations.h"
#include "mixnet/gluon/nn/basic_layers.h"
#include "mixnet/gluon/nn/conv_layers.h"
