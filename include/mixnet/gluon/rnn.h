/*!
 * \file rnn.h
 * \brief gluon.rnn: the fused recurrent layers (rnn/rnn_layer.h) and the cells (rnn/rnn_cell.h).
 */
#pragma once

#include "mixnet/gluon/rnn/rnn_cell.h"
#include "mixnet/gluon/rnn/rnn_layer.h"
